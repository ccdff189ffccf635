// Porch welcome: when a light comes on, wait for the house to settle, then set the porch light to
// your colour and text you. The wait grows when the house is busy, and now and then runs past the
// time limit.
const busy = Math.random() < 0.15;
const settleMs = 300 + Math.floor(Math.random() * 3000) * (busy ? 5 : 1);
console.log(`waiting ${settleMs} ms for the house to settle`);
await new Promise((resolve) => setTimeout(resolve, settleMs));
const color = await runAction("lights.change_color", {});
if (color.statusCode !== 204) {
  console.error(`porch light failed: ${color.statusCode} ${JSON.stringify(color.responseBody)}`);
}
const where = Trigger.ingredients.light.replace("_", " ");
await runAction("messages.send_text", { fields: { body: `Welcome home: the ${where} light is on.` } });
