/**
 * @module `GET /v2/`: the API version check every client starts with.
 */

/** 200 with the registry/2.0 version header and an empty JSON object. */
export function getBase(): Response {
  return Response.json({}, { headers: { "Docker-Distribution-API-Version": "registry/2.0" } });
}
