// The voices the TextToSpeech emulator knows (ListVoices answers with them; SynthesizeSpeech
// refuses other ko-KR names the way Google refuses a misspelled voice).

export interface EmulatedVoice {
  languageCodes: string[];
  name: string;
  ssmlGender: 'MALE' | 'FEMALE';
  naturalSampleRateHertz: number;
}

const CHIRP3_HD: [string, 'MALE' | 'FEMALE'][] = [
  ['Achernar', 'FEMALE'], ['Achird', 'MALE'], ['Algenib', 'MALE'], ['Algieba', 'MALE'], ['Alnilam', 'MALE'],
  ['Aoede', 'FEMALE'], ['Autonoe', 'FEMALE'], ['Callirrhoe', 'FEMALE'], ['Charon', 'MALE'], ['Despina', 'FEMALE'],
  ['Enceladus', 'MALE'], ['Erinome', 'FEMALE'], ['Fenrir', 'MALE'], ['Gacrux', 'FEMALE'], ['Iapetus', 'MALE'],
  ['Kore', 'FEMALE'], ['Laomedeia', 'FEMALE'], ['Leda', 'FEMALE'], ['Orus', 'MALE'], ['Puck', 'MALE'],
  ['Pulcherrima', 'FEMALE'], ['Rasalgethi', 'MALE'], ['Sadachbia', 'MALE'], ['Sadaltager', 'MALE'], ['Schedar', 'MALE'],
  ['Sulafat', 'FEMALE'], ['Umbriel', 'MALE'], ['Vindemiatrix', 'FEMALE'], ['Zephyr', 'FEMALE'], ['Zubenelgenubi', 'MALE'],
];

function tier(lang: string, name: string, variants: [string, 'MALE' | 'FEMALE'][]): EmulatedVoice[] {
  return variants.map(([v, ssmlGender]) => ({ languageCodes: [lang], name: `${lang}-${name}-${v}`, ssmlGender, naturalSampleRateHertz: 24_000 }));
}

/** ko-KR Standard, WaveNet, Neural2 and Chirp 3 HD voices, plus a few en-US ones. */
export const EMULATED_VOICES: readonly EmulatedVoice[] = [
  ...tier('ko-KR', 'Standard', [['A', 'FEMALE'], ['B', 'FEMALE'], ['C', 'MALE'], ['D', 'MALE']]),
  ...tier('ko-KR', 'Wavenet', [['A', 'FEMALE'], ['B', 'FEMALE'], ['C', 'MALE'], ['D', 'MALE']]),
  ...tier('ko-KR', 'Neural2', [['A', 'FEMALE'], ['B', 'FEMALE'], ['C', 'MALE']]),
  ...tier('ko-KR', 'Chirp3-HD', CHIRP3_HD),
  ...tier('en-US', 'Standard', [['A', 'MALE'], ['C', 'FEMALE']]),
  ...tier('en-US', 'Wavenet', [['A', 'MALE'], ['C', 'FEMALE']]),
  ...tier('en-US', 'Neural2', [['A', 'MALE'], ['C', 'FEMALE']]),
  ...tier('en-US', 'Chirp3-HD', CHIRP3_HD),
];

const VOICE_NAME = /^([a-z]{2,3}-[A-Z]{2})-(Standard|Wavenet|Neural2|Polyglot|Studio|News|Casual|Chirp-HD|Chirp3-HD)-[A-Za-z0-9]+$/;

/**
 * Checks a voice name: well formed, its language matching `languageCode` when both are
 * given, and listed when it is a ko-KR or en-US voice. Returns the problem, or undefined.
 */
export function voiceProblem(name: string, languageCode: string | undefined): string | undefined {
  const m = VOICE_NAME.exec(name);
  if (!m) return `Voice '${name}' does not exist. Is it misspelled?`;
  const lang = m[1]!;
  if (languageCode && languageCode.toLowerCase() !== lang.toLowerCase()) {
    return `Requested language code '${languageCode}' doesn't match the voice '${name}''s language code '${lang}'! Either leave the language code empty or set it to the voice's language code.`;
  }
  if ((lang === 'ko-KR' || lang === 'en-US') && !EMULATED_VOICES.some((v) => v.name === name)) return `Voice '${name}' does not exist. Is it misspelled?`;
  return undefined;
}
