// streamGenerateContent: one answer sent as chunks, a JSON array or (alt=sse) server-sent events.

import type http from 'node:http';
import type { GeminiAnswer } from './gemini-answer.js';
import { sendJson } from './http-kit.js';
import { estimateTokens } from './token-estimate.js';

/** Sends the answer in chunks: as SSE events when `sse`, else as one JSON array. */
export function sendGeminiStream(res: http.ServerResponse, answer: GeminiAnswer, sse: boolean): void {
  const chunks = streamChunks(answer);
  if (sse) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const chunk of chunks) res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
    res.end();
    return;
  }
  sendJson(res, 200, chunks);
}

/** Splits an answer into stream chunks of about 48 characters; usage rides on each, the finish reason on the last. */
function streamChunks(answer: GeminiAnswer): GeminiAnswer[] {
  const cand = answer.candidates[0] as { content?: { parts: { text: string }[] }; finishReason?: string } | undefined;
  const text = cand?.content?.parts[0]?.text;
  if (!cand || text === undefined) return [answer];
  const cps = [...text];
  const pieces: string[] = [];
  for (let i = 0; i < cps.length; i += 48) pieces.push(cps.slice(i, i + 48).join(''));
  if (!pieces.length) pieces.push('');
  let sent = '';
  return pieces.map((piece, i) => {
    sent += piece;
    const last = i === pieces.length - 1;
    const candidatesTokenCount = estimateTokens(sent);
    const u = answer.usageMetadata as { promptTokenCount: number; thoughtsTokenCount?: number };
    return {
      ...answer,
      candidates: [{ content: { parts: [{ text: piece }], role: 'model' }, index: 0, ...(last && { finishReason: cand.finishReason }) }],
      usageMetadata: last
        ? answer.usageMetadata
        : { ...answer.usageMetadata, candidatesTokenCount, totalTokenCount: u.promptTokenCount + candidatesTokenCount + (u.thoughtsTokenCount ?? 0) },
    };
  });
}
