// A frame for the Components/ stories: renders the component and marks itself ready
// (data-story-ready, read by tests/stories/stories.test.ts) once `expect` (a CSS selector of what
// the component must draw) is found inside it, or says what is missing after a few seconds.
import { useEffect, useRef, useState, type ReactNode } from 'react';

export function StoryFrame({ expect, width, children }: { expect: string; width?: number; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<'waiting' | 'ready' | 'missing'>('waiting');
  useEffect(() => {
    const t0 = performance.now();
    const id = setInterval(() => {
      if (ref.current?.querySelector(expect)) {
        setState('ready');
        clearInterval(id);
      } else if (performance.now() - t0 > 8000) {
        setState('missing');
        clearInterval(id);
      }
    }, 50);
    return () => clearInterval(id);
  }, [expect]);
  return (
    <div ref={ref} style={{ width }} data-story-ready={state === 'ready' ? '' : undefined}>
      {children}
      {state === 'missing' ? <div className="status error" role="alert">The story did not draw {expect}.</div> : null}
    </div>
  );
}
