// Which API a Gemini emulator path belongs to: the Gemini API
// (/{v1|v1beta|v1alpha}/models/{model}:method) or Vertex AI, on a project path
// (/{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{model}:method) or in
// express mode (/{v1|v1beta1}/publishers/google/models/{model}:method).

const ROUTE = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const VERTEX_ROUTE = /^\/(v1|v1beta1)\/(?:projects\/([^/]+)\/locations\/([^/]+)\/)?publishers\/google\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

export interface GeminiRoute {
  target: 'gemini' | 'gemini-vertex';
  vertex: boolean;
  version: string;
  model: string;
  method: string;
  /** Vertex project and location; both undefined in express mode. */
  project?: string;
  location?: string;
}

/** Which API a path belongs to: the Gemini API or Vertex AI (project path or express mode). */
export function parseGeminiRoute(pathname: string): GeminiRoute | undefined {
  const g = ROUTE.exec(pathname);
  if (g) return { target: 'gemini', vertex: false, version: g[1]!, model: g[2]!, method: g[3]! };
  const v = VERTEX_ROUTE.exec(pathname);
  if (!v) return undefined;
  const [, version, project, location, model, method] = v as unknown as [string, string, string | undefined, string | undefined, string, string];
  return { target: 'gemini-vertex', vertex: true, version, model, method, ...(project !== undefined && { project: decodeURIComponent(project), location: decodeURIComponent(location!) }) };
}
