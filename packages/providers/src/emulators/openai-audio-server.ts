// OpenAI-compatible audio endpoints: POST /v1/audio/transcriptions (Whisper; also what
// self-hosted faster-whisper servers expose) and POST /v1/audio/speech (tts-1, or a VITS
// server behind the same API). Any path ending in /audio/transcriptions or /audio/speech is
// served, so a base URL with or without /v1 works.

import type http from 'node:http';
import { detectAudioContainer, hearAudio, speechDurationMs, synthesizeMp3, synthesizePcm, synthesizeWav, truncateAudio } from './audio.js';
import type { FaultScript, HitCounter } from './faults.js';
import { estimateTokens } from './token-estimate.js';
import { BodyTooLargeError, HttpEmulator, readBody, sendJson, waitOutFault, type RequestScope } from './http-kit.js';
import { httpStatusFor } from './status-codes.js';
import type { Fault } from './types.js';

/** OpenAI's upload limit for transcriptions. */
export const WHISPER_MAX_FILE_BYTES = 25 * 1024 * 1024;
/** OpenAI's input limit for speech. */
export const SPEECH_MAX_INPUT_CHARS = 4096;
/** Sample rate of wav / pcm speech output (OpenAI's). */
export const OPENAI_SPEECH_SAMPLE_RATE_HERTZ = 24_000;

const SUPPORTED_UPLOADS = ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm'];
const LANGUAGE_NAMES: Record<string, string> = { ko: 'korean', en: 'english', ja: 'japanese', zh: 'chinese', es: 'spanish', fr: 'french', de: 'german' };

/** Writes OpenAI's error body: {"error":{"message","type","param","code"}}. */
export function sendOpenAiError(
  res: http.ServerResponse,
  status: number,
  message: string,
  opts: { type?: string; param?: string | null; code?: string | null; retryAfterSeconds?: number; retryAfterMs?: number } = {},
): void {
  const type = opts.type ?? (status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error');
  const headers: Record<string, string> = {};
  if (opts.retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.ceil(opts.retryAfterSeconds));
  if (opts.retryAfterMs !== undefined) headers['retry-after-ms'] = String(Math.round(opts.retryAfterMs));
  sendJson(res, status, { error: { message, type, param: opts.param ?? null, code: opts.code ?? null } }, headers);
}

const FAULT_MESSAGES: Record<number, [string, string | null]> = {
  400: ['Bad request.', null],
  401: ['Incorrect API key provided.', 'invalid_api_key'],
  403: ['You are not allowed to access this resource.', null],
  404: ['The model does not exist or you do not have access to it.', 'model_not_found'],
  429: ['Rate limit reached for requests. Please try again later.', 'rate_limit_exceeded'],
  500: ['The server had an error while processing your request. Sorry about that!', null],
  503: ['The engine is currently overloaded, please try again later.', null],
};

/** OpenAI's answer for an account with no credits left: a 429 that no wait cures. */
export const INSUFFICIENT_QUOTA_MESSAGE =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.';

/** Answers the faults that replace the whole response; returns false for the others. */
function sendFault(res: http.ServerResponse, fault: Fault | undefined): boolean {
  if (fault?.kind === 'api_key_invalid') {
    sendOpenAiError(res, 401, 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', { code: 'invalid_api_key' });
    return true;
  }
  if (fault?.kind === 'insufficient_quota') {
    sendOpenAiError(res, 429, INSUFFICIENT_QUOTA_MESSAGE, { type: 'insufficient_quota', code: 'insufficient_quota' });
    return true;
  }
  if (fault?.kind !== 'status') return false;
  const status = httpStatusFor(fault.status);
  const [message, code] = FAULT_MESSAGES[status] ?? ['The request failed.', null];
  sendOpenAiError(res, status, fault.message ?? message, {
    code,
    ...(fault.retryAfterSeconds !== undefined && { retryAfterSeconds: fault.retryAfterSeconds }),
    ...(fault.retryAfterMs !== undefined && { retryAfterMs: fault.retryAfterMs }),
  });
  return true;
}

/** OpenAI's GPT-4o transcription models (and dated snapshots): token-billed, json (or text) only. */
export function isTokenBilledTranscriber(model: string): boolean {
  return /^gpt-4o(-mini)?-transcribe\b/.test(model);
}

/** Audio input tokens per second the GPT-4o transcription models are billed for (one per 100 ms). */
export const TRANSCRIBE_AUDIO_TOKENS_PER_SECOND = 10;

/**
 * What OpenAI says it billed, by model: whisper-1 whole seconds (rounded up), the GPT-4o
 * transcribers tokens (audio, prompt text, transcript). Other models are self-hosted ones,
 * whose servers (faster-whisper, speaches) report no usage.
 */
function transcriptionUsage(model: string, durationMs: number, prompt: string, transcript: string): Record<string, unknown> | undefined {
  if (model === 'whisper-1') return { type: 'duration', seconds: Math.ceil(durationMs / 1000) };
  if (!isTokenBilledTranscriber(model)) return undefined;
  const audioTokens = Math.ceil((durationMs / 1000) * TRANSCRIBE_AUDIO_TOKENS_PER_SECOND);
  const textTokens = estimateTokens(prompt);
  const outputTokens = estimateTokens(transcript);
  return {
    type: 'tokens',
    input_tokens: audioTokens + textTokens,
    input_token_details: { text_tokens: textTokens, audio_tokens: audioTokens },
    output_tokens: outputTokens,
    total_tokens: audioTokens + textTokens + outputTokens,
  };
}

function sentenceSegments(text: string, durationMs: number) {
  const parts = text.split(/(?<=[.!?。！？])\s+/u).filter(Boolean);
  const total = parts.reduce((s, p) => s + speechDurationMs(p), 0) || 1;
  let at = 0;
  return parts.map((p, id) => {
    const start = (at / total) * durationMs;
    at += speechDurationMs(p);
    return { id, start: start / 1000, end: ((at / total) * durationMs) / 1000, text: p };
  });
}

function timestamp(seconds: number, sep: ',' | '.'): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${sep}${pad(ms % 1000, 3)}`;
}

export class OpenAiAudioEmulator {
  readonly http: HttpEmulator;

  constructor(
    name: string,
    private readonly faults: FaultScript,
    hits: HitCounter,
  ) {
    this.http = new HttpEmulator(name, hits, (req, res, scope) => this.handle(req, res, scope), (res) =>
      sendOpenAiError(res, 500, 'The server had an error while processing your request.'),
    );
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, scope: RequestScope): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (req.method === 'GET' && url.pathname === '/health') return sendJson(res, 200, { status: 'ok' });
    const route = url.pathname.endsWith('/audio/transcriptions') ? 'whisper' : url.pathname.endsWith('/audio/speech') ? 'http-tts' : undefined;
    if (!route) return sendOpenAiError(res, 404, `Invalid URL (${req.method} ${url.pathname})`);
    if (req.method !== 'POST') return sendOpenAiError(res, 405, `Invalid method ${req.method} for ${url.pathname}`);

    let raw: Buffer;
    try {
      raw = await readBody(req, WHISPER_MAX_FILE_BYTES + 1024 * 1024);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        scope.hit(route, []);
        return sendOpenAiError(res, 413, `Maximum content size limit (${WHISPER_MAX_FILE_BYTES}) exceeded.`);
      }
      throw err;
    }
    return route === 'whisper' ? this.transcribe(req, res, scope, raw) : this.speak(req, res, scope, raw);
  }

  /** Checks the optional bearer token's format; answers 401 and returns false when it is wrong. */
  private authorized(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const auth = req.headers.authorization;
    if (auth === undefined || /^Bearer\s+\S+$/i.test(auth)) return true;
    sendOpenAiError(res, 401, 'Incorrect API key provided. Send it as "Authorization: Bearer <key>".', { code: 'invalid_api_key' });
    return false;
  }

  private async transcribe(req: http.IncomingMessage, res: http.ServerResponse, scope: RequestScope, raw: Buffer): Promise<void> {
    const contentType = req.headers['content-type'] ?? '';
    let form: FormData | undefined;
    if (/^multipart\/form-data/i.test(contentType)) {
      try {
        form = await new Request('http://emulator/', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(raw) }).formData();
      } catch {
        form = undefined;
      }
    }
    const model = form?.get('model');
    scope.hit('whisper', typeof model === 'string' && model ? [model] : []);
    if (!this.authorized(req, res)) return;
    const fault = this.faults.pick('whisper', typeof model === 'string' && model ? [model] : []);
    if (!(await waitOutFault(fault, scope.signal))) return;
    if (sendFault(res, fault)) return;

    if (!form) return sendOpenAiError(res, 400, 'Expected a multipart/form-data body with a file and a model.');
    const file = form.get('file');
    if (typeof model !== 'string' || !model) return sendOpenAiError(res, 400, 'you must provide a model parameter', { param: 'model' });
    if (!file || typeof file === 'string') return sendOpenAiError(res, 400, "Missing required parameter: 'file'.", { param: 'file' });
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (bytes.length > WHISPER_MAX_FILE_BYTES) return sendOpenAiError(res, 413, `Maximum content size limit (${WHISPER_MAX_FILE_BYTES}) exceeded (${bytes.length} bytes read).`);
    const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase();
    if (!ext || !SUPPORTED_UPLOADS.includes(ext)) {
      return sendOpenAiError(res, 400, `Invalid file format. Supported formats: ${JSON.stringify(SUPPORTED_UPLOADS)}`, { param: 'file' });
    }
    if (detectAudioContainer(bytes) === 'unknown' && ext !== 'm4a' && ext !== 'mp4') {
      return sendOpenAiError(res, 400, 'Audio file might be corrupted or unsupported', { param: 'file', code: 'invalid_value' });
    }
    const format = String(form.get('response_format') ?? 'json');
    if (isTokenBilledTranscriber(model) && format !== 'json' && format !== 'text') {
      return sendOpenAiError(res, 400, `response_format '${format}' is not compatible with model '${model}'. Use 'json' or 'text' instead.`, {
        param: 'response_format',
        code: 'unsupported_value',
      });
    }
    const heard = hearAudio(bytes);
    const language = String(form.get('language') ?? '');
    const seconds = heard.durationMs / 1000;
    const prompt = form.get('prompt');
    const usage = transcriptionUsage(model, heard.durationMs, typeof prompt === 'string' ? prompt : '', heard.transcript);

    if (fault?.kind === 'malformed_json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"text": "${heard.transcript.slice(0, Math.ceil(heard.transcript.length / 2))}`);
      return;
    }
    switch (format) {
      case 'json':
        return sendJson(res, 200, { text: heard.transcript, ...(usage && { usage }) });
      case 'verbose_json': {
        const languageName = LANGUAGE_NAMES[language] ?? (language || (/[\uac00-\ud7a3]/u.test(heard.transcript) || !heard.transcript ? 'korean' : 'english'));
        const segments = sentenceSegments(heard.transcript, heard.durationMs).map((s) => ({
          ...s,
          seek: 0,
          tokens: [],
          temperature: 0,
          avg_logprob: heard.truncated ? -0.9 : -0.2,
          compression_ratio: 1,
          no_speech_prob: 0.01,
        }));
        return sendJson(res, 200, { task: 'transcribe', language: languageName, duration: Math.round(seconds * 100) / 100, text: heard.transcript, segments, ...(usage && { usage }) });
      }
      case 'text':
      case 'srt':
      case 'vtt': {
        const segs = sentenceSegments(heard.transcript, heard.durationMs);
        const body =
          format === 'text'
            ? `${heard.transcript}\n`
            : format === 'srt'
              ? segs.map((s, i) => `${i + 1}\n${timestamp(s.start, ',')} --> ${timestamp(s.end, ',')}\n${s.text}\n`).join('\n')
              : `WEBVTT\n\n${segs.map((s) => `${timestamp(s.start, '.')} --> ${timestamp(s.end, '.')}\n${s.text}\n`).join('\n')}`;
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(body);
        return;
      }
      default:
        return sendOpenAiError(res, 400, `response_format '${format}' is not one of json, text, srt, verbose_json, vtt.`, { param: 'response_format' });
    }
  }

  private async speak(req: http.IncomingMessage, res: http.ServerResponse, scope: RequestScope, raw: Buffer): Promise<void> {
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const names = [body?.model, body?.voice].filter((n): n is string => typeof n === 'string' && n !== '');
    scope.hit('http-tts', names);
    if (!this.authorized(req, res)) return;
    const fault = this.faults.pick('http-tts', names);
    if (!(await waitOutFault(fault, scope.signal))) return;
    if (sendFault(res, fault)) return;

    if (!body) return sendOpenAiError(res, 400, 'We could not parse the JSON body of your request.');
    const { model, input, voice } = body;
    if (typeof model !== 'string' || !model) return sendOpenAiError(res, 400, "Missing required parameter: 'model'.", { param: 'model' });
    if (typeof voice !== 'string' || !voice) return sendOpenAiError(res, 400, "Missing required parameter: 'voice'.", { param: 'voice' });
    if (typeof input !== 'string' || !input.trim()) return sendOpenAiError(res, 400, "Missing required parameter: 'input'.", { param: 'input' });
    if ([...input].length > SPEECH_MAX_INPUT_CHARS) {
      return sendOpenAiError(res, 400, `input is longer than the limit of ${SPEECH_MAX_INPUT_CHARS} characters.`, { param: 'input', code: 'string_above_max_length' });
    }
    const speed = body.speed === undefined ? 1 : Number(body.speed);
    if (!(speed >= 0.25 && speed <= 4)) return sendOpenAiError(res, 400, `speed must be between 0.25 and 4.0 (got ${String(body.speed)}).`, { param: 'speed' });
    const format = String(body.response_format ?? 'mp3');
    let audio: Uint8Array;
    let contentType: string;
    switch (format) {
      case 'mp3':
        audio = synthesizeMp3(input, { speakingRate: speed });
        contentType = 'audio/mpeg';
        break;
      case 'wav':
        audio = synthesizeWav(input, { sampleRateHertz: OPENAI_SPEECH_SAMPLE_RATE_HERTZ, speakingRate: speed });
        contentType = 'audio/wav';
        break;
      case 'pcm':
        audio = synthesizePcm(input, { sampleRateHertz: OPENAI_SPEECH_SAMPLE_RATE_HERTZ, speakingRate: speed });
        contentType = 'audio/pcm';
        break;
      case 'opus':
      case 'aac':
      case 'flac':
        return sendOpenAiError(res, 400, `response_format '${format}' is not supported by the emulator: use mp3, wav or pcm.`, { param: 'response_format' });
      default:
        return sendOpenAiError(res, 400, `response_format '${format}' is not one of mp3, opus, aac, flac, wav, pcm.`, { param: 'response_format' });
    }
    if (fault?.kind === 'truncated_audio') audio = truncateAudio(audio, 0.5);
    res.writeHead(200, { 'content-type': contentType, 'content-length': audio.length });
    res.end(audio);
  }

  listen(host: string, port: number): Promise<number> {
    return this.http.listen(host, port);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
