// Progress and a cancel button for the model-wide check of one kind, while it runs.
import { useStudio, type TaskKind } from '../../../state/store';
import { cancelTask } from '../../../state/check-actions';
import { ProgressBar } from '../ProgressBar';

export function TaskStatus({ kinds }: { kinds: TaskKind[] }) {
  const task = useStudio((s) => s.task);
  if (!task || !kinds.includes(task.kind)) return null;
  return (
    <div className="task" data-testid={`task-${task.kind}`}>
      <div className="status">{task.message}</div>
      {task.progress ? <ProgressBar progress={task.progress} /> : null}
      <button onClick={cancelTask}>Cancel</button>
    </div>
  );
}

/** The last check's message (done, cancelled or failed), under the panel that ran it. */
export function TaskMessage() {
  const m = useStudio((s) => s.taskMessage);
  if (!m) return null;
  return <div className={m.ok ? 'status' : 'status error'} role="status">{m.text}</div>;
}
