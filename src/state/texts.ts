// The bundled texts (public/texts/) the studio offers besides pasted and picked ones. The first is
// the one the studio opens on.
export interface BundledText {
  file: string;
  title: string;
}

export const BUNDLED_TEXTS: BundledText[] = [
  { file: 'prose-nodejs-pull-requests.md', title: 'Prose: Node.js pull requests guide (~7.5K tokens, MIT)' },
  { file: 'code-python-fractions.py', title: 'Code: Python fractions.py (~8.1K tokens, PSF)' },
  { file: 'structured-nodejs-path-api.json', title: 'Structured: Node.js path API JSON (~9.7K tokens, MIT)' },
  { file: 'prose-long-alice-in-wonderland.txt', title: 'Long prose: Alice in Wonderland (~56K tokens, public domain; 32K with max tokens)' },
  { file: 'prose-2k-nodejs-technical-values.md', title: 'Short prose: Node.js technical values (~800 tokens, MIT)' },
  { file: 'studio-intro.txt', title: 'The lighthouse keeper (short story, ~250 tokens)' },
];

export const textUrl = (base: string, file: string) => `${base}texts/${encodeURIComponent(file)}`;
