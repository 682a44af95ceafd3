// The bundled sample texts (public/samples/). The first is the one the studio opens on.
export interface Sample {
  file: string;
  title: string;
}

export const SAMPLES: Sample[] = [{ file: 'studio-intro.txt', title: 'The lighthouse keeper (short story, ~250 tokens)' }];

export const sampleUrl = (base: string, file: string) => `${base}samples/${encodeURIComponent(file)}`;
