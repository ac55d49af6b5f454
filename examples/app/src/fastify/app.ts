import formbody from "@fastify/formbody";
import fastifyHelmet from "@fastify/helmet";
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  type preHandlerHookHandler,
} from "fastify";
import helmet from "helmet";
import { freshLoginRequired, loginManagerPlugin, loginRequired } from "login-manager/fastify";
import { type AppDeps, badPath, createWebApp, healthz, notFound, staticFile } from "../web/app.js";
import { BODY_LIMIT_BYTES, BodyError, bodyKind, parseForm, parseJson } from "../web/body.js";
import { csrfFailurePage, errorResponse, isCsrfRefusal, storeUnavailable } from "../web/errors.js";
import { isBadRequestTarget } from "../web/http.js";
import { type Guard, ROUTES } from "../web/routes.js";
import { HSTS, helmetOptions, isHttpsRequest } from "../web/security.js";
import { encrypted, errorRequest, header, send, webRequest } from "./http.js";

const GUARDS: Record<Guard, preHandlerHookHandler[]> = {
  none: [],
  login: [loginRequired],
  fresh: [freshLoginRequired],
};

/**
 * Builds the reference app on Fastify 5: security headers (`@fastify/helmet`), `/healthz` and
 * static files (which never touch sessions or the database), then, in an encapsulated plugin,
 * `@fastify/formbody`, login-manager and the routes of `web/routes.ts`. Resolves once every plugin
 * is loaded (`app.ready()`); serve it with `app.listen()` or hand `app.server`'s requests to it.
 *
 * @example
 * ```ts
 * const app = await createFastifyApp(await createServices(parseConfig()));
 * await app.listen({ port: 5000 });
 * ```
 */
export async function createFastifyApp(deps: AppDeps): Promise<FastifyInstance> {
  const web = createWebApp(deps);
  const addHsts = (request: FastifyRequest, reply: FastifyReply) => {
    const https = isHttpsRequest(
      { encrypted: encrypted(request), header: (name) => header(request, name) },
      web.config.trustProxyHops,
    );
    if (https) reply.header("strict-transport-security", HSTS);
  };
  const routingHelmet = helmet(helmetOptions());
  const app = Fastify({
    bodyLimit: BODY_LIMIT_BYTES,
    // `/login/` is `/login`, as on Express and Hono.
    routerOptions: { ignoreTrailingSlash: true },
    // A path that cannot be percent-decoded: the app's 400 page. Fastify reports it before any hook
    // (and before @fastify/helmet) runs, so helmet itself adds the security headers here.
    frameworkErrors: (error, request, reply) => {
      routingHelmet(request.raw, reply.raw, () => undefined);
      addHsts(request, reply);
      send(
        reply,
        errorResponse(web.render, web.logger, error, { ...errorRequest(request), auth: undefined }),
      );
    },
  });
  app.setErrorHandler((error, request, reply) =>
    send(reply, errorResponse(web.render, web.logger, error, errorRequest(request))),
  );

  await app.register(fastifyHelmet, helmetOptions());
  app.addHook("onRequest", async (request, reply) => {
    addHsts(request, reply);
    if (isBadRequestTarget(request.url)) return send(reply, badPath(web, errorRequest(request)));
  });
  app.get("/healthz", (_request, reply) => send(reply, healthz()));
  app.get("/static/*", (request, reply) =>
    send(
      reply,
      staticFile(web, {
        ...errorRequest(request),
        auth: undefined,
        ifNoneMatch: header(request, "if-none-match"),
      }),
    ),
  );

  // Everything else goes through login-manager; registering it inside this plugin keeps the two
  // routes above out of it.
  const behindLoginManager: FastifyPluginAsync = async (site) => {
    // The bodies the app reads (web/body.ts): refused with 415 before parsing, then parsed like Express.
    site.addHook("onRequest", async (request) => {
      const kind = bodyKind({
        contentType: header(request, "content-type"),
        contentEncoding: header(request, "content-encoding"),
        contentLength: header(request, "content-length"),
        transferEncoding: header(request, "transfer-encoding"),
      });
      if (kind instanceof BodyError) throw kind;
    });
    site.removeAllContentTypeParsers();
    await site.register(formbody, { parser: parseForm });
    site.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
      try {
        done(null, parseJson(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    });

    await site.register(loginManagerPlugin, {
      manager: deps.manager,
      onStoreUnavailable: (error, request, reply) =>
        send(reply, storeUnavailable(web.logger, error, errorRequest(request))),
    });
    // login-manager answers a failed CSRF check with plain text; browsers get the app's page instead.
    site.addHook("onSend", async (request, reply, payload) => {
      if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS")
        return payload;
      if (!isCsrfRefusal(reply.statusCode, reply.getHeader("content-type"), payload)) return payload;
      const page = csrfFailurePage(payload as string);
      for (const [name, value] of Object.entries(page.headers)) reply.header(name, value);
      return page.body;
    });

    for (const route of ROUTES) {
      site.route({
        method: route.method,
        url: route.path,
        preHandler: GUARDS[route.guard],
        handler: async (request, reply) => send(reply, await route.handler(web, webRequest(request))),
      });
    }
    site.setNotFoundHandler((request, reply) => send(reply, notFound(web, errorRequest(request))));
  };
  await app.register(behindLoginManager);

  await app.ready();
  return app;
}
