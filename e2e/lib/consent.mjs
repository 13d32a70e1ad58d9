// Signing a consent in real Chromium: a name typed, a signature drawn on the pad with the
// mouse (pointer events, as a finger or pen makes them), the box ticked, the form sent.

/** Draws a few strokes of a signature on the canvas `#pad` of `page`. */
export async function drawSignature(page) {
  const pad = page.locator("#pad");
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  const at = (x, y) => [box.x + box.width * x, box.y + box.height * y];
  const strokes = [
    [[0.08, 0.7], [0.15, 0.25], [0.22, 0.75], [0.3, 0.3], [0.38, 0.7]],
    [[0.45, 0.5], [0.6, 0.45], [0.75, 0.55], [0.9, 0.4]],
  ];
  for (const stroke of strokes) {
    await page.mouse.move(...at(...stroke[0]));
    await page.mouse.down();
    for (const p of stroke.slice(1)) await page.mouse.move(...at(...p), { steps: 4 });
    await page.mouse.up();
  }
}

/** Fills and sends the consent form on `page` (already open), signed by `name`. */
export async function sign(page, name) {
  await page.fill("#name", name);
  await drawSignature(page);
  await page.check("#agree");
  await page.getByRole("button", { name: "Sign", exact: true }).click();
}

/**
 * The client signs the treatment consent for their latest design at the chair, on the studio's
 * page (the staff member signed in is recorded as present).
 */
export async function signTreatmentAtChair(page, baseUrl, clientId, name) {
  await page.goto(`/clients/${clientId}/consents/procedure/sign`);
  await Promise.all([page.waitForURL(`${baseUrl}/clients/${clientId}/consents?done=signed`), sign(page, name)]);
}
