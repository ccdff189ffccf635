// Liked video texts: when you like a video, search for more like it and text you each one.
const liked = Trigger.ingredients;
const found = await performQuery("videos.search_videos", { fields: { q: liked.title }, limit: 3 });
if (found.statusCode !== 200) {
  console.warn(`search for "${liked.title}" failed with ${found.statusCode}`);
  return;
}
for (const video of found.responseBody.data) {
  await runAction("messages.send_text", { fields: { body: `${video.title} ${video.url}` } });
}
console.log(`texted ${found.responseBody.data.length} videos like "${liked.title}"`);
