// tests/js/openai_ga.mjs: the openai npm SDK (7.x), GA protocol, against
// `mockrt serve --tls --scenario fixtures/scenarios/weather_tool.yaml`.
// Run: MOCKRT_URL=https://127.0.0.1:8000 NODE_EXTRA_CA_CERTS=<the CA path mockrt prints> node openai_ga.mjs
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';

const client = new OpenAI({ baseURL: `${process.env.MOCKRT_URL}/v1`, apiKey: 'sk-anything' });
const rt = new OpenAIRealtimeWS({ model: 'gpt-realtime' }, client); // the SDK always connects with wss://
const errors = [];
rt.on('error', (err) => {
  if (!err.error) throw err.cause ?? err; // no connection (e.g. an untrusted certificate): fail loudly
  errors.push(err.error); // an error event from the service
});
const next = (type) => new Promise((resolve) => rt.once(type, resolve));
const say = (text) => rt.send({
  type: 'conversation.item.create',
  item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
});
const result = {};

await next('session.created');
rt.send({
  type: 'session.update',
  session: {
    type: 'realtime', output_modalities: ['text'],
    audio: { input: { turn_detection: null, transcription: { model: 'gpt-4o-transcribe' } } },
    tools: [{ type: 'function', name: 'get_weather', description: 'Weather in a city',
              parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
  },
});
await next('session.updated');

// 1. A text turn.
let text = '';
rt.on('response.output_text.delta', (event) => { text += event.delta; });
say('Hello!');
rt.send({ type: 'response.create' });
result.text = { status: (await next('response.done')).response.status, text };

// 2. A function call round trip: the model calls get_weather, we answer, it replies from the result.
say("What's the weather in Paris today?");
rt.send({ type: 'response.create' });
const call = (await next('response.done')).response.output.find((item) => item.type === 'function_call');
rt.send({
  type: 'conversation.item.create',
  item: { type: 'function_call_output', call_id: call.call_id, output: JSON.stringify({ celsius: 21 }) },
});
rt.send({ type: 'response.create' });
const answer = (await next('response.done')).response.output[0].content[0].text;
result.tool = { name: call.name, arguments: JSON.parse(call.arguments), answer };

// 3. An audio turn: speech in (pcm16, 24 kHz), speech and its transcript out, and the input transcript.
const wav = readFileSync(new URL('../../fixtures/audio/speech_weather.wav', import.meta.url));
const pcm = wav.subarray(wav.indexOf('data') + 8);
for (let at = 0; at < pcm.length; at += 9600) { // 200 ms per append
  rt.send({ type: 'input_audio_buffer.append', audio: pcm.subarray(at, at + 9600).toString('base64') });
}
rt.send({ type: 'input_audio_buffer.commit' });
const heard = next('conversation.item.input_audio_transcription.completed');
let audioBytes = 0;
rt.on('response.output_audio.delta', (event) => { audioBytes += Buffer.from(event.delta, 'base64').length; });
const transcribed = next('response.output_audio_transcript.done');
const done = next('response.done'); // listen before awaiting: both may arrive in one read
rt.send({ type: 'response.create', response: { output_modalities: ['audio'] } });
const transcript = (await transcribed).transcript;
result.audio = { status: (await done).response.status, audioBytes, transcript, heard: (await heard).transcript };

// 4. A bad event: the service's error event, and the session goes on.
rt.send({ type: 'session.update', session: { type: 'realtime', temperature: 0.7 } });
await new Promise((resolve) => rt.once('error', resolve));
result.errors = errors;

rt.close();
console.log(JSON.stringify(result));
