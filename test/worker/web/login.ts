/** Signing in through the /login form as a browser does (its CSRF cookie and field). */
import { SELF } from 'cloudflare:test'

/** Cookies of a response as a `Cookie` header value. */
export function cookiesOf(res: Response): Record<string, string> {
  return Object.fromEntries(
    res.headers.getAll('Set-Cookie').map((c) => c.split(';')[0]!.split('=') as [string, string]),
  )
}

export async function loginForm() {
  const page = await SELF.fetch('http://x/login')
  const html = await page.text()
  const csrf = html.match(/name="_csrf" value="([^"]+)"/)![1]!
  return { csrf, cookie: `sg_form_csrf=${cookiesOf(page).sg_form_csrf}` }
}

export async function postLogin(
  email: string,
  password: string,
  form?: { csrf: string; cookie: string },
  ip = `10.0.0.${Math.floor(Math.random() * 250)}`,
) {
  const f = form ?? (await loginForm())
  return SELF.fetch('http://x/login', {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Cookie: f.cookie,
      'cf-connecting-ip': ip,
    },
    body: new URLSearchParams({ email, password, _csrf: f.csrf, next: '/' }),
  })
}
