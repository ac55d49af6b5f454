/**
 * Checks the `Register` pattern end to end: after `declare module "login-manager"`, the adapters'
 * request properties, the guards and `currentUser()` are typed with the application's user, with no
 * generics at call sites. Compiled alone by `test/types/register.test.ts`.
 */
import type { Request as ExpressRequest } from "express";
import express from "express";
import type { FastifyRequest } from "fastify";
import Fastify from "fastify";
import type { Context } from "hono";
import { Hono } from "hono";
import type { AnonymousUser, AuthContext, AuthUser, RegisteredUser } from "login-manager";
import { currentUser, LoginManager, UserMixin } from "login-manager";
import { initApp } from "login-manager/express";
import { loginManagerPlugin, loginRequired } from "login-manager/fastify";
import { loginManager } from "login-manager/hono";
import { MemoryStore } from "login-manager/stores/memory";

class Member extends UserMixin {
  constructor(
    readonly id: number,
    readonly email: string,
  ) {
    super();
  }
}

declare module "login-manager" {
  interface Register {
    user: Member;
  }
}

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

export type RegisterChecks = [
  Expect<Equal<RegisteredUser, Member>>,
  Expect<Equal<ExpressRequest["auth"], AuthContext<Member>>>,
  Expect<Equal<FastifyRequest["auth"], AuthContext<Member>>>,
  Expect<Equal<Context["var"]["auth"], AuthContext<Member>>>,
];

export async function registeredUsage(request: FastifyRequest, c: Context, someone: AuthUser): Promise<void> {
  const fromFastify: string = request.auth.requireUser().email;
  const fromHono: string = c.var.auth.requireUser().email;
  const user = currentUser();
  const currentUserIsRegistered: Expect<Equal<typeof user, Member | AnonymousUser>> = true;
  const fromContext: string | null = user.isAnonymous ? null : user.email;
  // @ts-expect-error only the registered user type can be logged in
  await request.auth.loginUser(someone);
  void [fromFastify, fromHono, fromContext, currentUserIsRegistered];

  const manager = new LoginManager<Member>({ secret: "x".repeat(32), store: new MemoryStore() });
  const fastify = Fastify();
  await fastify.register(loginManagerPlugin, { manager });
  fastify.get("/", { preHandler: loginRequired }, async (req) => req.auth.requireUser().email);
  initApp(express(), manager);
  const hono = new Hono();
  hono.use(loginManager(manager));
  hono.get("/", (ctx) => ctx.text(ctx.var.auth.requireUser().email));
}
