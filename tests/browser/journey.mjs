// The browser journey of the web site, in headless Debian chromium driven by playwright-core
// (no browser download), with axe-core on the main pages and screenshots at phone and
// desktop widths. Started by tests/integration/browser.rs, which owns the daemon:
//   node journey.mjs  (env: BASE_URL, CHROMIUM, SCREENSHOTS, ADMIN_LOGIN, ADMIN_PASSWORD)
// It asks the test for a sync by printing `NEED_SYNC` and reading a line on stdin.
// Exit code 0 on success; any failed check throws (exit 1) with its reason on stderr.

import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { mkdirSync } from "node:fs";

const require = createRequire(import.meta.url);
const axeSource = require("axe-core").source;
const base = process.env.BASE_URL;
const shots = process.env.SCREENSHOTS;
const admin = { login: process.env.ADMIN_LOGIN, password: process.env.ADMIN_PASSWORD };
mkdirSync(shots, { recursive: true });

const lines = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));
const step = (what) => console.log(`STEP ${what}`);
function check(ok, what) { if (!ok) throw new Error(`check failed: ${what}`); }

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const errors = [];
async function newPage(viewport) {
  const ctx = await browser.newContext({ viewport, baseURL: base });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  // Script errors and failed requests, except the failures the journey causes on purpose
  // (a wrong password, the 404 page). Failed loads are counted by their response.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("response", (r) => {
    const u = new URL(r.url());
    const expected = (u.pathname === "/api/auth/login" && r.status() === 401) || u.pathname === "/no-such-page";
    if (r.status() >= 400 && !expected) errors.push(`${r.status()} for ${r.url()}`);
  });
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
  return page;
}

async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of bad) console.error(`axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`);
  check(bad.length === 0, `no serious or critical axe violations on ${name}`);
  console.log(`AXE ${name}: ${result.violations.length} minor/moderate, 0 serious/critical`);
}

const desktop = { width: 1280, height: 900 };
const phone = { width: 390, height: 844 };
const player = await newPage(desktop);
const password = "correct horse battery";

step("register");
await player.goto("/register");
await player.fill("#username", "journey_player");
await player.fill("#email", "journey@example.com");
await player.fill("#new-password", password);
await player.click("button[type=submit]");
await player.waitForURL("**/account");
check((await player.textContent("h1")).includes("journey_player"), "the account page greets the new player");

step("log out and log in");
await player.click("#main form[data-api='/api/auth/logout'] button");
await player.waitForURL(base + "/");
await player.goto("/login");
await player.fill("#login", "journey_player");
await player.fill("#password", "wrong password!");
await player.click("button[type=submit]");
await player.waitForFunction(() => document.querySelector(".form-status").textContent.length > 8);
check(player.url().endsWith("/login"), "a wrong password keeps the login page");
await player.fill("#password", password);
await player.click("button[type=submit]");
await player.waitForURL("**/account");

step("live leaderboard update over the WebSocket");
await player.goto("/leaderboard?period=today");
await player.waitForFunction(() => document.body.dataset.live === "connected");
check(!(await player.content()).includes("Fresh_Face"), "the new player is not there before the sync");
await player.evaluate(() => { window.__noReload = true; });
console.log("NEED_SYNC");
await nextLine();
await player.waitForFunction(() => document.querySelector("#live tbody").textContent.includes("Fresh_Face"));
check(await player.evaluate(() => window.__noReload === true), "the table changed without a reload");

step("switch periods and open a player");
await player.click("nav.tabs >> text=All time");
await player.waitForURL("**period=all_time");
check((await player.getAttribute("nav.tabs a[aria-current=page]", "href")).includes("all_time"), "the all-time tab is current");
const first = await player.textContent("#live tbody tr:first-child td:nth-child(2) a");
await player.click("#live tbody tr:first-child td:nth-child(2) a");
await player.waitForURL("**/players/**");
check((await player.textContent("h1")).includes(first.trim()), "the player page shows the player");
check(await player.isVisible("progress#tier-progress") || (await player.content()).includes("top tier"), "tier progress shown");
check((await player.$$("#history svg rect.bar")).length === 30, "the wager history chart has a bar per day for 30 days");
await player.click("#history nav.spans >> text=90 days");
await player.waitForURL("**days=90**");
check((await player.$$("#history svg rect.bar")).length === 90, "90 days on asking");
check((await player.textContent("#history svg title")).startsWith("Daily wagers"), "the chart has its title");

step("request a Goated link");
await player.goto("/account");
await player.fill("#goated_name", "LuckyLlama");
await player.click("#goated form button[type=submit]");
await player.waitForSelector("text=pending");

step("approve it as admin in a second browser session");
const boss = await newPage(desktop);
await boss.goto("/login");
await boss.fill("#login", admin.login);
await boss.fill("#password", admin.password);
await boss.click("button[type=submit]");
await boss.waitForURL("**/account");
await boss.goto("/admin");
check((await boss.textContent("#links")).includes("journey_player"), "the request is pending for the admin");
await boss.click("#links button[data-post$='/approve']");
await boss.waitForFunction(() => document.querySelector("#links").textContent.includes("Nothing waiting"));

step("create a race on /admin, its prize table previewed as it is typed");
const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
await boss.goto("/admin");
await boss.fill("#race-title", "Journey weekend");
await boss.fill("#race-starts_at", `${day(1)}T00:00`);
await boss.fill("#race-ends_at", `${day(3)}T00:00`);
await boss.fill("#race-timezone", "UTC");
await boss.fill("#race-prize_pool", "2500");
await boss.fill("#race-prize_percentages", "50, 30, 30");
await boss.waitForFunction(() => document.querySelector(".split-over").textContent.includes("110 %, more than 100 %"));
await (await boss.$("#races form.race-form")).screenshot({ path: `${shots}/admin-race-over-100-desktop.png` });
await boss.fill("#race-prize_percentages", "50, 30, 20");
await boss.waitForFunction(() => document.querySelectorAll("#race-preview tbody tr").length === 3);
const preview = await boss.$$eval("#race-preview tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent).join(" ")));
check(preview.join(" | ") === "#1 50 % $1,250.00 | #2 30 % $750.00 | #3 20 % $500.00", `the preview shows each place's amount (${preview.join(" | ")})`);
check((await boss.textContent(".split-total")).includes("Total: 100 %"), "the preview totals the split");
check((await boss.textContent(".split-over")) === "", "no error at 100 %");
await boss.screenshot({ path: `${shots}/admin-race-form-desktop.png`, fullPage: true });
await Promise.all([boss.waitForURL("**/admin?race=*"), boss.click("#races form.race-form button[type=submit]")]);
const raceId = new URL(boss.url()).searchParams.get("race");
check(/^journey-weekend-\d{8}$/.test(raceId), `the race got its id (${raceId})`);
check((await boss.textContent("#races")).includes("Journey weekend"), "the admin page lists the race");

step("the race is on /races");
for (let deadline = Date.now() + 15000; ; ) {
  await player.goto("/races");
  if ((await player.textContent("#main")).includes("Journey weekend")) break;
  check(Date.now() < deadline, "the races page lists the new race");
  await player.waitForTimeout(250);
}

step("a challenge made on /admin, entered on /challenges, verified on /admin");
await boss.goto("/admin");
await boss.fill("#ch-game", "Limbo");
await boss.fill("#ch-mult", "x50");
await boss.fill("#ch-min", "1");
await boss.fill("#ch-prize", "20");
await boss.fill("#ch-winners", "1");
await boss.fill("#ch-hours", "24");
await boss.fill("#ch-desc", "Hit x50 on Limbo with a $1 bet");
await Promise.all([boss.waitForURL("**/admin#challenges"), boss.click("#challenges form[action='/admin/challenges'] button[type=submit]")]);
check((await boss.textContent("#challenges")).includes("Limbo x50"), "the admin card lists the new challenge");
await player.goto("/challenges");
check((await player.textContent("#main")).includes("Hit x50 on Limbo with a $1 bet"), "the challenges page shows the open challenge");
await player.screenshot({ path: `${shots}/challenges-open-desktop.png`, fullPage: true });
await player.fill("#ch-link", "https://goated.com/bets/4815162342");
await Promise.all([player.waitForURL("**/challenges?entered=*"), player.click("#enter button[type=submit]")]);
check((await player.textContent("#enter")).includes("pending"), "the player sees their entry waiting");
await boss.goto("/admin");
check((await boss.textContent("#challenges")).includes("https://goated.com/bets/4815162342"), "the entry waits on the admin card with its link");
await boss.fill("#challenges .entry input[name=code]", "LIMBO20");
await (await boss.$("#challenges")).screenshot({ path: `${shots}/admin-challenges-desktop.png` });
await (await boss.$("#schedules")).screenshot({ path: `${shots}/admin-schedules-desktop.png` });
await Promise.all([boss.waitForURL("**/admin#challenges"), boss.click("#challenges .entry form[action$='/verify'] button[type=submit]")]);
check((await boss.textContent("#challenges")).includes("1 / 1"), "the challenge has its winner");
await player.goto("/challenges");
check((await player.textContent("#enter")).includes("LIMBO20"), "the winner sees their code");
check((await player.textContent("#winners")).includes("LuckyLlama"), "the winner is listed");

step("the player's account shows the link");
await player.goto("/account");
check((await player.textContent("#goated .linked")).includes("LuckyLlama"), "the account shows the linked player");

step("privacy switch");
check(!(await player.isChecked("#mask_name")), "names are not masked at first");
await player.check("#mask_name");
await Promise.all([player.waitForEvent("load"), player.click("#privacy button[type=submit]")]);
check(await player.isChecked("#mask_name"), "the masked-name choice is saved");
// Public pages then show the linked name masked (the snapshot is reloaded; wait for it).
for (let deadline = Date.now() + 15000; ; ) {
  await player.goto("/leaderboard");
  const text = await player.textContent("#live");
  if (text.includes("Lu***ma") && !text.includes("LuckyLlama")) break;
  check(Date.now() < deadline, "the leaderboard shows the masked name");
  await player.waitForTimeout(250);
}

step("Telegram link code");
await player.goto("/account");
await player.click("#tg-code");
await player.waitForSelector("#tg-code-value");
check(/^\S{4,}$/.test(await player.textContent("#tg-code-value")), "a link code is shown");

step("race countdown ticks");
await player.goto("/race");
check((await player.textContent(".mine")).includes("#"), "the race page shows the player's own line");
const before = await player.textContent(".countdown");
await player.waitForFunction((b) => document.querySelector(".countdown").textContent !== b, before);

step("overlay");
await player.goto("/overlay/race");
check(await player.isVisible("text=Ends in"), "the overlay shows the countdown");
check(await player.evaluate(() => getComputedStyle(document.body).backgroundColor) === "rgba(0, 0, 0, 0)", "the overlay is transparent");
check(!(await player.isVisible("header.site")), "the overlay has no navigation");

step("the VIP program and the site's own pages");
await player.goto("/vip");
check((await player.textContent("#standing")).includes("wagered all time"), "the linked player sees where they stand");
check((await player.textContent("tr.mine-row")).includes("Your tier"), "the player's tier is marked");
await player.goto("/p/faq");
check((await player.textContent("h1")).includes("Frequently asked questions"), "the FAQ page has its title");
await player.click("footer.site >> text=How it works");
await player.waitForURL("**/p/how-it-works");
await player.goto("/leaderboard");
await player.click("#live td.tier-col a.tier >> nth=0");
await player.waitForURL("**/vip");

step("accessibility and screenshots");
const pages = [
  ["home", "/", player], ["leaderboard", "/leaderboard", player], ["race", "/race", player],
  ["races", "/races", player], ["player", "/players/aX93kQ2mZp0LrT7vWb1c", player],
  ["vip", "/vip", player], ["page-faq", "/p/faq", player], ["challenges", "/challenges", player],
  ["bonus-codes", "/bonus-codes", player], ["account", "/account", player],
  ["admin", "/admin", boss], ["admin-race", `/admin/races/${raceId}`, boss], ["not-found", "/no-such-page", player],
  ["overlay-race", "/overlay/race", player], ["embed", "/embed/leaderboard", player],
];
const anon = await newPage(desktop);
pages.push(["login", "/login", anon], ["register", "/register", anon]);
for (const [name, path, page] of pages) {
  await page.goto(path);
  await axe(page, name);
  await page.screenshot({ path: `${shots}/${name}-desktop.png`, fullPage: true });
  await page.setViewportSize(phone);
  const overflow = await page.evaluate(() => {
    const over = document.documentElement.scrollWidth - window.innerWidth;
    const wide = [...document.querySelectorAll("body *")]
      .filter((e) => !e.closest(".table-wrap") && e.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 4).map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${e.className}`);
    return { over, wide };
  });
  check(overflow.over <= 0, `${name} fits a phone's width (${overflow.over}px too wide: ${overflow.wide.join(", ")})`);
  await page.screenshot({ path: `${shots}/${name}-phone.png`, fullPage: true });
  await page.setViewportSize(desktop);
}

check(errors.length === 0, `no script errors in the pages: ${errors.join("; ")}`);
await browser.close();
console.log("JOURNEY OK");
process.exit(0);
