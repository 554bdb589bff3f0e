// Finds the .proto files shipped inside the installed Google client packages, at run time and
// from this package's own location, so it works from source, from the ESM build and from
// the CJS build alike (never relative to a source file).

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

declare const __filename: string | undefined;

function requireHere(): NodeJS.Require {
  // The CJS build has __filename; ESM (source and build) has import.meta.url.
  return typeof __filename === 'string' && __filename ? createRequire(__filename) : createRequire(import.meta.url);
}

/** The root folder of an installed package, found through the resolver (works even when its exports map hides package.json). */
function packageRoot(req: NodeJS.Require, name: string): string {
  let dir: string;
  try {
    return path.dirname(req.resolve(`${name}/package.json`));
  } catch {
    dir = path.dirname(req.resolve(name));
  }
  for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === name) return dir;
  }
  throw new Error(`emulators: cannot find the folder of the installed package ${name}`);
}

export interface GoogleProtoPaths {
  /** Include folders: each client's build/protos and google-gax's build/protos (google/api, google/rpc, ...). */
  includeDirs: string[];
  /** google/cloud/speech/v1/cloud_speech.proto, absolute. */
  speech: string;
  /** google/cloud/speech/v2/cloud_speech.proto, absolute. */
  speechV2: string;
  /** google/cloud/texttospeech/v1/cloud_tts.proto, absolute. */
  textToSpeech: string;
  /** google-gax's build/protos folder (google/rpc/status.proto, error_details.proto). */
  gaxProtos: string;
}

/** Locates the protos of @google-cloud/speech, @google-cloud/text-to-speech and google-gax. */
export function googleProtoPaths(): GoogleProtoPaths {
  const req = requireHere();
  const speechDir = path.join(packageRoot(req, '@google-cloud/speech'), 'build', 'protos');
  const ttsDir = path.join(packageRoot(req, '@google-cloud/text-to-speech'), 'build', 'protos');
  const gaxProtos = path.join(packageRoot(req, 'google-gax'), 'build', 'protos');
  const out: GoogleProtoPaths = {
    includeDirs: [speechDir, ttsDir, gaxProtos],
    speech: path.join(speechDir, 'google', 'cloud', 'speech', 'v1', 'cloud_speech.proto'),
    speechV2: path.join(speechDir, 'google', 'cloud', 'speech', 'v2', 'cloud_speech.proto'),
    textToSpeech: path.join(ttsDir, 'google', 'cloud', 'texttospeech', 'v1', 'cloud_tts.proto'),
    gaxProtos,
  };
  for (const f of [out.speech, out.speechV2, out.textToSpeech, path.join(gaxProtos, 'google', 'rpc', 'status.proto')]) {
    if (!existsSync(f)) throw new Error(`emulators: expected proto file is missing: ${f}`);
  }
  return out;
}
