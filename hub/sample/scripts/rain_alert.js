// Rain alert: when rain is forecast for tomorrow, text the chance of rain and tomorrow's high.
const rain = Trigger.ingredients;
const forecast = await performQuery("weather.forecast", { fields: { location: rain.location }, limit: 2 });
// Looks tomorrow up in the forecast without checking the answer: when the forecast call fails, or the
// event is about a day the forecast no longer covers, this throws.
const tomorrow = forecast.responseBody.data.find((day) => day.date === rain.date);
const text = `Rain tomorrow in ${rain.location} (${rain.rain_chance}%), high of ${tomorrow.high_c}°C.`;
await runAction("messages.send_text", { fields: { body: text } });
console.log(text);
