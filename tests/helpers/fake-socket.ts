import { EventEmitter } from "node:events";
import type { WebSocket } from "ws";

/** Just what src/http/ws-sessions.ts uses of a `ws` socket: readyState, close() and the "close" event. */
export class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  closes: [number, string][] = [];
  close(code: number, reason: string) {
    this.closes.push([code, reason]);
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.emit("close");
  }
  get ws(): WebSocket {
    return this as unknown as WebSocket;
  }
}
