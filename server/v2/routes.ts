/**
 * @module The /v2 API assembled: each resource's pattern with its handlers.
 */
import type { Registry } from "../../lib/registry/registry.ts";
import { getBase } from "./base.ts";
import { blobHandlers } from "./blobs.ts";
import { uploadCollectionHandlers, uploadSessionHandlers } from "./blob-uploads.ts";
import { catalogHandlers } from "./catalog.ts";
import { manifestHandlers } from "./manifests.ts";
import { routePatterns, type Route } from "./router.ts";
import { referrerHandlers } from "./referrers.ts";
import { tagHandlers } from "./tags.ts";

/** The route table for a registry, in matching order. */
export function v2Routes(reg: Registry): Route[] {
  return [
    {
      resource: "base",
      pattern: routePatterns.base,
      methods: { GET: getBase, HEAD: getBase },
      access: { GET: "authenticated", HEAD: "authenticated" },
    },
    { resource: "catalog", pattern: routePatterns.catalog, methods: catalogHandlers(reg), access: { GET: "catalog" } },
    { resource: "uploads", pattern: routePatterns.uploads, methods: uploadCollectionHandlers(reg), access: { POST: "push" } },
    {
      resource: "upload",
      pattern: routePatterns.upload,
      methods: uploadSessionHandlers(reg),
      access: { GET: "push", PATCH: "push", PUT: "push", DELETE: "push" },
    },
    {
      resource: "blob",
      pattern: routePatterns.blob,
      methods: blobHandlers(reg),
      access: { GET: "pull", HEAD: "pull", DELETE: "delete" },
    },
    {
      resource: "manifest",
      pattern: routePatterns.manifest,
      methods: manifestHandlers(reg),
      access: { GET: "pull", HEAD: "pull", PUT: "push", DELETE: "delete" },
    },
    { resource: "tags", pattern: routePatterns.tags, methods: tagHandlers(reg), access: { GET: "pull" } },
    { resource: "referrers", pattern: routePatterns.referrers, methods: referrerHandlers(reg), access: { GET: "pull" } },
  ];
}
