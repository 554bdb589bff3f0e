// Runs the getting-started guide's shutdown snippet for real: an HTTP server whose one route
// speaks a sentence through the AI client. Started as a child process by getting-started-doc.test.ts.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createAi } from './snippets/ai.js';
import { stopGracefully } from './snippets/shutdown.js';

const ai = await createAi(process.env, fileURLToPath(new URL('./snippets/ai-policy.json', import.meta.url)));
const server = createServer((req, res) => {
  ai.client.tts.synthesize({ text: '안녕하세요' }).then(
    (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes: r.audio.byteLength, provider: r.meta.provider })),
    (e: Error & { code?: string }) => res.writeHead(503).end(JSON.stringify({ code: e.code })),
  );
});
stopGracefully(server, ai);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`listening ${port}`);
});
