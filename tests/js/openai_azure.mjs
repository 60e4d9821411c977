// tests/js/openai_azure.mjs: the openai npm SDK's Azure flavour against `mockrt serve --tls`
// (the Azure GA path /openai/v1/realtime?model=<deployment>).
// Run: MOCKRT_URL=https://127.0.0.1:8000 NODE_EXTRA_CA_CERTS=<the CA path mockrt prints> node openai_azure.mjs
import { AzureOpenAI } from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';

const azure = new AzureOpenAI({
  endpoint: process.env.MOCKRT_URL, apiKey: 'azure-key', apiVersion: '2025-04-01-preview', deployment: 'my-realtime',
});
const rt = await OpenAIRealtimeWS.azure(azure);
const errors = [];
rt.on('error', (err) => {
  if (!err.error) throw err.cause ?? err; // no connection (e.g. an untrusted certificate): fail loudly
  errors.push(err.error); // an error event from the service
});
const next = (type) => new Promise((resolve) => rt.once(type, resolve));

const created = await next('session.created');
let text = '';
rt.on('response.output_text.delta', (event) => { text += event.delta; });
rt.send({
  type: 'conversation.item.create',
  item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hello from Azure!' }] },
});
rt.send({ type: 'response.create', response: { output_modalities: ['text'] } });
const done = await next('response.done');

rt.close();
console.log(JSON.stringify({ url: rt.url.href, model: created.session.model, status: done.response.status, text,
                             errors }));
