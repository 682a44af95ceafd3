// Lets the browser paint and handle input (and a worker answer its messages) between chunks of
// long work: a macrotask boundary.
export const yieldToUi = () => new Promise<void>((r) => setTimeout(r, 0));
