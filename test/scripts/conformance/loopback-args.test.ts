import { describe, expect, it } from 'vitest'
import { LOOPBACK, loopbackListenArgs } from '../../../scripts/conformance/loopback-args.ts'

describe('loopbackListenArgs', () => {
  const cb = () => {}

  it('adds the loopback host to listen(port), as the cache-tests server calls it (the port from an env var is a string)', () => {
    expect(loopbackListenArgs(['0'])).toEqual(['0', LOOPBACK])
    expect(loopbackListenArgs([8000])).toEqual([8000, LOOPBACK])
  })

  it('keeps a backlog and a callback after the host', () => {
    expect(loopbackListenArgs([8000, cb])).toEqual([8000, LOOPBACK, cb])
    expect(loopbackListenArgs([8000, 511, cb])).toEqual([8000, LOOPBACK, 511, cb])
  })

  it('pins listen() and listen(cb) (a random port on every interface otherwise)', () => {
    expect(loopbackListenArgs([])).toEqual([0, LOOPBACK])
    expect(loopbackListenArgs([cb])).toEqual([0, LOOPBACK, cb])
  })

  it('adds the host to an options object that names none', () => {
    expect(loopbackListenArgs([{ port: 0 }, cb])).toEqual([{ port: 0, host: LOOPBACK }, cb])
  })

  it('leaves calls that name a host, pipes and handles alone', () => {
    expect(loopbackListenArgs([8000, '::1'])).toEqual([8000, '::1'])
    expect(loopbackListenArgs([{ port: 0, host: '::1' }])).toEqual([{ port: 0, host: '::1' }])
    expect(loopbackListenArgs(['/tmp/server.sock'])).toEqual(['/tmp/server.sock'])
    expect(loopbackListenArgs([{ path: '/tmp/server.sock' }])).toEqual([{ path: '/tmp/server.sock' }])
    expect(loopbackListenArgs([{ fd: 3 }])).toEqual([{ fd: 3 }])
  })
})
