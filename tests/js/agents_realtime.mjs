// tests/js/agents_realtime.mjs: @openai/agents-realtime (0.20) over its WebSocket transport, against
// `mockrt serve --tls --scenario fixtures/scenarios/weather_tool.yaml`.
// Run: MOCKRT_URL=https://127.0.0.1:8000 NODE_EXTRA_CA_CERTS=<the CA path mockrt prints> node agents_realtime.mjs
import { readFileSync } from 'node:fs';
import { RealtimeAgent, RealtimeSession, tool } from '@openai/agents-realtime';
import { z } from 'zod';

const getWeather = tool({
  name: 'get_weather',
  description: 'The weather in a city.',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `${city}: 21 °C, sunny`,
});
const agent = new RealtimeAgent({ name: 'Assistant', instructions: 'Be brief.', tools: [getWeather] });
const session = new RealtimeSession(agent, { transport: 'websocket', model: 'gpt-realtime' });
const errors = [];
session.on('error', (event) => errors.push(String(event.error?.error?.message ?? event.error)));
const toolCalls = [];
session.on('agent_tool_end', (_context, _agent, tool, result) => toolCalls.push({ name: tool.name, result }));
const turn = () => new Promise((resolve) => session.once('agent_end', (_context, _agent, output) => resolve(output)));

const wssUrl = process.env.MOCKRT_URL.replace(/^http/, 'ws');
await session.connect({ apiKey: 'sk-anything', url: `${wssUrl}/v1/realtime?model=gpt-realtime` });

// 1. A text turn.
let replied = turn();
session.sendMessage('Hello!');
const text = await replied;

// 2. A tool call the agent executes: the model calls get_weather, the SDK runs it and sends the result.
replied = turn(); // the function call
session.sendMessage("What's the weather in Paris today?");
await replied;
const toolAnswer = await turn(); // the reply made from the tool's result

// 3. A voice turn: speech then silence, the server's VAD ends the turn and the agent answers.
const wav = readFileSync(new URL('../../fixtures/audio/speech_weather.wav', import.meta.url));
const speech = wav.subarray(wav.indexOf('data') + 8);
const audio = Buffer.concat([speech, Buffer.alloc(24000 * 2)]); // + 1 s of silence
replied = turn();
for (let at = 0; at < audio.length; at += 4800) { // 100 ms chunks
  const chunk = audio.subarray(at, at + 4800);
  session.sendAudio(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length));
}
const voiceAnswer = await replied;
const heard = session.history.filter((item) => item.type === 'message' && item.role === 'user')
  .flatMap((item) => item.content).find((part) => part.type === 'input_audio');

session.close();
console.log(JSON.stringify({ text, toolCalls, toolAnswer, voiceAnswer, heard: heard?.transcript ?? null, errors }));
