import type { Emulators } from './types.js';

/**
 * The environment variables that point an app at running emulators: the host and ports the
 * example server and the CLI's consumers read, the base URL `@google/genai` reads on its own,
 * and placeholder keys (the emulators take any key; `whisperStt` sends OPENAI_API_KEY only to
 * api.openai.com).
 */
export function emulatorEnv(emu: Emulators): Record<string, string> {
  return {
    EMULATORS_HOST: String(emu.google.clientOptions.apiEndpoint),
    GEMINI_EMULATOR_PORT: new URL(emu.gemini.baseUrl).port,
    GOOGLE_EMULATOR_PORT: String(emu.google.port),
    WHISPER_EMULATOR_PORT: new URL(emu.whisper.baseUrl).port,
    HTTP_TTS_EMULATOR_PORT: new URL(emu.httpTts.baseUrl).port,
    OPENAI_EMULATOR_PORT: new URL(emu.openai.baseUrl).port,
    GOOGLE_GEMINI_BASE_URL: emu.gemini.baseUrl,
    GEMINI_API_KEY: 'emulator',
    OPENAI_API_KEY: 'emulator',
  };
}
