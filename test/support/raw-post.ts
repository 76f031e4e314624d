/**
 * A POST over node:http, for tests that must control how the body is framed (its `Content-Length`, or
 * chunked) and sent, which `fetch` decides for itself.
 */
import http from 'node:http'

/** POSTs to `url`; `send` writes the body and ends the request. Resolves with the answer's status and text. */
export function rawPost(url: URL, headers: Record<string, string>, send: (request: http.ClientRequest) => void): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    request.on('error', reject)
    send(request)
  })
}
