/** Creating clients through the admin API, as an operator would (the token is shown once). */

export interface CreatedClient {
  id: string
  name: string
  token: string
}

/** POST /api/admin/clients/create with the admin bearer; throws with the answer on anything but 201. */
export async function createClient(url: string, adminToken: string, name: string, email?: string): Promise<CreatedClient> {
  const response = await fetch(`${url}/api/admin/clients/create`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, ...(email ? { email } : {}) }),
  })
  const text = await response.text()
  if (response.status !== 201) throw new Error(`create client ${name}: HTTP ${response.status} ${text}`)
  const { client } = JSON.parse(text) as { client: CreatedClient }
  return client
}
