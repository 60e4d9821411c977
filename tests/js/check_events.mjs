// Test helper (not a README snippet): validate server events (JSON lines on stdin) with the zod schemas that
// @openai/agents-realtime parses the wire with. An event whose type the SDK models must parse; the SDK would
// otherwise drop it as a "generic" event without a word.
// Prints {"checked": N, "unmodelled": [types], "failures": [{type, issues}]}.
import { readFileSync } from 'node:fs';

// The schemas are not exported from the package's entry point; import the module file itself.
const events = await import(new URL('./node_modules/@openai/agents-realtime/dist/openaiRealtimeEvents.mjs',
                                    import.meta.url));
const schema = events.realtimeServerEventSchema;
const modelled = new Set(schema.options.map((option) => option.shape.type.value));

const out = { checked: 0, unmodelled: [], failures: [] };
for (const line of readFileSync(0, 'utf8').split('\n').filter(Boolean)) {
  const event = JSON.parse(line);
  if (!modelled.has(event.type)) {
    if (!out.unmodelled.includes(event.type)) out.unmodelled.push(event.type);
    continue;
  }
  out.checked += 1;
  const parsed = schema.safeParse(event);
  if (!parsed.success) out.failures.push({ type: event.type, issues: parsed.error.issues.slice(0, 3) });
}
console.log(JSON.stringify(out));
