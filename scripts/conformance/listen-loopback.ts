/**
 * @module Preload (`node --import`) for the cache-tests origin server: pins every `listen()` that names no
 * host to 127.0.0.1. The suite's `server.mjs` calls `server.listen(port)`, which binds all interfaces;
 * servers on this machine must only be reachable locally. Patching the prototype (http.Server inherits
 * it) keeps the suite's own files unchanged.
 */
import net from 'node:net'
import { loopbackListenArgs } from './loopback-args.ts'

const originalListen = net.Server.prototype.listen as (this: net.Server, ...args: unknown[]) => net.Server

net.Server.prototype.listen = function listenOnLoopback(this: net.Server, ...args: unknown[]): net.Server {
  return originalListen.apply(this, loopbackListenArgs(args))
} as typeof net.Server.prototype.listen
