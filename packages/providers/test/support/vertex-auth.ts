import { OAuth2Client } from 'google-auth-library';

/**
 * An auth client that always answers with the same, unexpired access token: the real
 * google-auth-library class, so the Vertex AI route runs as in production, with no Google
 * credentials, metadata server or token refresh (the emulator accepts any bearer token).
 */
export function staticTokenClient(token = 'ya29.emulator-token'): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000, token_type: 'Bearer' });
  return client;
}
