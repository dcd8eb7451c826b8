// End-to-end test of the web UI in headless Chromium (Debian's chromium,
// driven by playwright-core): the real nodes `liaison demo` starts.
//
//   LIAISON_BIN=target/debug/liaison node e2e/ui.test.mjs
//
// Screenshots of the main pages are saved to test-artifacts/e2e/.

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const root = resolve(new URL(".", import.meta.url).pathname, "..");
const bin = process.env.LIAISON_BIN ?? join(root, "target/debug/liaison");
const chrome = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = join(root, "test-artifacts/e2e");
mkdirSync(shots, { recursive: true });
const PASSWORD = "liaison-demo-2026";
// Six consecutive ports that are free now, below Linux's ephemeral range
// (32768 and up), where outgoing connections would take them.
async function freeBasePort() {
  const free = (port) =>
    new Promise((ok) => {
      const server = createServer();
      server.once("error", () => ok(false));
      server.listen(port, "127.0.0.1", () => server.close(() => ok(true)));
    });
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 12000);
    let all = true;
    for (let p = base; p < base + 10 && all; p++) all = await free(p);
    if (all) return base;
  }
  throw new Error("no ten free consecutive ports between 20000 and 32000");
}
const basePort = await freeBasePort();

function startDemo(dir) {
  return new Promise((ok, fail) => {
    const child = spawn(bin, ["demo", "--dir", dir, "--base-port", String(basePort), "--no-seed"], {
      env: { ...process.env, RUST_LOG: "error" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const timer = setTimeout(() => fail(new Error("the demo did not start within 60 s:\n" + out)), 60000);
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Stop with")) {
        clearTimeout(timer);
        const url = (party) => out.match(new RegExp(`\\n\\s+${party}\\s+party\\s+web (http://\\S+)`))[1];
        ok({ child, us: url("us"), ru: url("ru"), ruIsp: url("ru-isp") });
      }
    });
    child.on("exit", (code) => fail(new Error(`the demo exited with ${code}:\n${out}`)));
  });
}

async function login(browser, base, user, locale) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

const dir = mkdtempSync(join(tmpdir(), "liaison-e2e-"));
const demo = await startDemo(dir);
// The demo stops with this script, however it ends.
process.on("exit", () => demo.child.kill("SIGTERM"));
const browser = await chromium.launch({
  executablePath: chrome,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  // 1. A legal officer of us sends an MLA request; a missing field is shown in place.
  const us = await login(browser, demo.us, "legal", "en-US");
  await shot(us, "us-dashboard");
  await us.goto(`${demo.us}/cases/new?kind=mla`);
  await us.fill("[name='reference_number']", "OIA-E2E-0001");
  await us.fill("[name='requested_authority.name']", "Генеральная прокуратура Российской Федерации");
  await us.fill("[name='requested_authority.contact_person']", "И. И. Петров");
  await us.fill("[name='requested_authority.email']", "mpp@genproc.example");
  await us.fill("[name='requesting_authority.contact_person']", "Jane Doe");
  await us.fill("[name='requesting_authority.email']", "oia.cyber@usdoj.example");
  await us.fill("[name='investigating_authority']", "FBI Cyber Division");
  await us.fill("[name='prosecutor_or_court.name']", "U.S. Attorney's Office, E.D. Va.");
  await us.selectOption("[name='offence.id']", "computer-fraud");
  await us.check("input[name='assistance_sought'][value='subscriber_information']");
  await us.fill("[name='assistance_description']", "Subscriber records of the hosting account.");
  await Promise.all([us.waitForNavigation(), us.click("form.request button[type=submit]")]);
  const fieldError = us.locator(".field[data-field='summary_of_facts'] .field-error");
  assert.equal(await fieldError.textContent(), "This field is required.", "the error is shown next to the field");
  assert.equal(await us.inputValue("[name='reference_number']"), "OIA-E2E-0001", "entered values are kept");
  await shot(us, "us-form-error");
  await us.fill("[name='summary_of_facts']", "A phishing campaign stole USD 2.1 million from bank customers.");
  await Promise.all([us.waitForNavigation(), us.click("form.request button[type=submit]")]);
  const caseUrl = us.url();
  assert.match(caseUrl, /\/cases\/us-[0-9a-f]+$/, "redirected to the new case");
  const caseId = caseUrl.split("/").pop();
  await shot(us, "us-case-sent");

  // 2. ru's legal officer sees it arrive, in Russian, and acknowledges it.
  const ru = await login(browser, demo.ru, "legal", "ru-RU");
  let seen = false;
  for (let i = 0; i < 50 && !seen; i++) {
    await ru.goto(`${demo.ru}/cases?box=in`);
    seen = (await ru.locator(`a[href='/cases/${caseId}']`).count()) > 0;
    if (!seen) await ru.waitForTimeout(200);
  }
  assert.ok(seen, "the request reached ru's inbox");
  assert.equal(await ru.locator("h1").textContent(), "Входящие");
  await shot(ru, "ru-inbox");
  await ru.goto(`${demo.ru}/cases/${caseId}`);
  assert.match(await ru.locator("h1").textContent(), /^Запрос о правовой помощи OIA-E2E-0001: Мошенничество/);
  assert.equal(await ru.locator("#case-state").textContent(), "доставлен");
  assert.ok((await ru.locator("html").getAttribute("lang")) === "ru");
  await shot(ru, "ru-case-delivered");
  await Promise.all([ru.waitForNavigation(), ru.click("form.action[data-action=acknowledge] button")]);
  assert.equal(await ru.locator("#case-state").textContent(), "подтверждён получателем");
  await shot(ru, "ru-case-acknowledged");

  // 3. The state changes on us.
  let state = "";
  for (let i = 0; i < 50 && state !== "acknowledged"; i++) {
    await us.goto(caseUrl);
    state = await us.locator("#case-state").textContent();
    if (state !== "acknowledged") await us.waitForTimeout(200);
  }
  assert.equal(state, "acknowledged", "us sees the acknowledgement");
  assert.equal(await us.locator(".timeline .receipt.ok").count(), 2, "both messages show a verified receipt");
  await shot(us, "us-case-acknowledged");
  // 3b. ru forwards the request to its provider, which produces the data;
  //     ru relays the production and us sees each file's chain of custody.
  await ru.goto(`${demo.ru}/cases/${caseId}`);
  await ru.selectOption("#forward select[name=to]", "ru-isp");
  await ru.fill("#forward textarea[name=note]", "Исполнить в течение 10 дней.");
  await Promise.all([ru.waitForNavigation(), ru.click("#forward button[type=submit]")]);
  assert.match(ru.url(), /\/cases\/ru-[0-9a-f]+$/, "the forward opens an execution case");
  const execId = ru.url().split("/").pop();
  await shot(ru, "ru-forwarded");
  const isp = await login(browser, demo.ruIsp, "provider", "ru-RU");
  let held = false;
  for (let i = 0; i < 50 && !held; i++) {
    await isp.goto(`${demo.ruIsp}/cases/${execId}`);
    held = (await isp.locator("#produce").count()) > 0;
    if (!held) await isp.waitForTimeout(200);
  }
  assert.ok(held, "the provider holds the execution order and may produce");
  await isp.fill("#produce [name=period_from]", "2026-10-01");
  await isp.fill("#produce [name=period_to]", "2026-10-31");
  await isp.fill("#produce [name=legal_basis]", "Поручение Генеральной прокуратуры");
  await isp.setInputFiles("#produce input[type=file]", {
    name: "subscriber.csv", mimeType: "text/csv",
    buffer: Buffer.from("account,name\nphish@primertelecom.example,Иван Иванов\n"),
  });
  await Promise.all([isp.waitForNavigation(), isp.click("#produce button[type=submit]")]);
  await shot(isp, "ru-isp-produced");
  let relayable = false;
  for (let i = 0; i < 50 && !relayable; i++) {
    await ru.goto(`${demo.ru}/cases/${execId}`);
    relayable = (await ru.locator("#relay").count()) > 0;
    if (!relayable) await ru.waitForTimeout(200);
  }
  assert.ok(relayable, "ru may relay the production");
  await Promise.all([ru.waitForNavigation(), ru.click("#relay button")]);
  let verified = 0;
  for (let i = 0; i < 50 && verified < 2; i++) {
    await us.goto(caseUrl);
    verified = await us.locator("#custody td.receipt.ok").count();
    if (verified < 2) await us.waitForTimeout(200);
  }
  assert.equal(verified, 2, "us sees both hand-overs of the file with verified receipts");
  assert.equal(await us.locator("#custody h3 a").first().textContent(), "subscriber.csv");
  await shot(us, "us-custody");
  // 3c. The directory: ru's entry reaches us, proved against the witness.
  let listed = 0;
  for (let i = 0; i < 75 && listed === 0; i++) {
    await us.goto(`${demo.us}/directory`);
    listed = await us.locator("#directory tr[data-party='ru'] .contact").count();
    if (listed === 0) await us.waitForTimeout(200);
  }
  assert.equal(listed, 1, "us's directory shows ru's 24/7 contact");
  await shot(us, "us-directory");
  for (const [name, path] of [["us-outbox", "/cases?box=out"], ["us-peers", "/peers"], ["us-escalations", "/escalations"], ["us-transparency", "/transparency"]]) {
    await us.goto(demo.us + path);
    await shot(us, name);
  }
  await us.goto(`${demo.us}/audit`);
  await Promise.all([us.waitForNavigation(), us.click("main form button")]);
  await shot(us, "us-audit");

  // 4. The shared glossary: us proposes a definition, ru signs it in Russian,
  //    and both show it agreed; search finds the case in Russian.
  await us.goto(`${demo.us}/glossary/botnet`);
  await us.fill("#propose [name='definition_en']", "A network of devices infected with malicious software and controlled remotely, without their owners' knowledge.");
  await us.fill("#propose [name='definition_ru']", "Сеть устройств, заражённых вредоносной программой и управляемых удалённо без ведома их владельцев.");
  await Promise.all([us.waitForNavigation(), us.click("#propose button[type=submit]")]);
  assert.equal(await us.locator("tr.party-def[data-party='us']").count(), 1, "us's definition is shown");
  let signable = false;
  for (let i = 0; i < 50 && !signable; i++) {
    await ru.goto(`${demo.ru}/glossary/botnet`);
    signable = (await ru.locator("#sign").count()) > 0;
    if (!signable) await ru.waitForTimeout(200);
  }
  assert.ok(signable, "ru may countersign us's proposal");
  await shot(ru, "ru-glossary-term");
  await Promise.all([ru.waitForNavigation(), ru.click("#sign button")]);
  assert.equal(await ru.locator("#term-status").textContent(), "согласован");
  let agreed = "";
  for (let i = 0; i < 50 && agreed !== "agreed"; i++) {
    await us.goto(`${demo.us}/glossary/botnet`);
    agreed = await us.locator("#term-status").textContent();
    if (agreed !== "agreed") await us.waitForTimeout(200);
  }
  assert.equal(agreed, "agreed", "us sees the agreement");
  await us.goto(`${demo.us}/glossary`);
  await shot(us, "us-glossary");
  for (const [name, path] of [["us-crosswalks", "/crosswalks"], ["us-norms", "/norms"]]) {
    await us.goto(demo.us + path);
    await shot(us, name);
  }
  await ru.fill("nav input[name=q]", "мошенничества");
  await Promise.all([ru.waitForNavigation(), ru.press("nav input[name=q]", "Enter")]);
  assert.equal(await ru.locator(`#hits a[href='/cases/${caseId}']`).count(), 1, "search finds the case");
  await shot(ru, "ru-search");

  // 5. Ping test: us's duty officer pings ru; ru's duty officer acknowledges it
  //    from the duty page; us sees the answer and its response time.
  const usDuty = await login(browser, demo.us, "duty", "en-US");
  await usDuty.goto(`${demo.us}/duty`);
  await Promise.all([usDuty.waitForNavigation(), usDuty.click("#pings tr[data-party='ru'] button")]);
  const ruDuty = await login(browser, demo.ru, "duty", "ru-RU");
  let waiting = 0;
  for (let i = 0; i < 50 && waiting === 0; i++) {
    await ruDuty.goto(`${demo.ru}/duty`);
    waiting = await ruDuty.locator("#waiting tr.kind-ping").count();
    if (waiting === 0) await ruDuty.waitForTimeout(200);
  }
  assert.equal(waiting, 1, "the ping waits for ru's duty officer");
  await shot(ruDuty, "ru-duty");
  await Promise.all([ruDuty.waitForNavigation(), ruDuty.click("#waiting tr.kind-ping button")]);
  assert.equal(await ruDuty.locator("#waiting tr.kind-ping").count(), 0, "acknowledged");
  let answered = "0";
  for (let i = 0; i < 50 && answered !== "1"; i++) {
    await usDuty.goto(`${demo.us}/duty`);
    answered = (await usDuty.locator("#pings tr[data-party='ru'] td:nth-child(3)").textContent()).trim();
    if (answered !== "1") await usDuty.waitForTimeout(200);
  }
  assert.equal(answered, "1", "us sees the ping answered");
  await shot(usDuty, "us-duty");

  // 6. Terrorist content: us's legal officer reports an image hash to ru;
  //    ru's provider liaison answers the item "removed" on the case page;
  //    the hash joins us's list, reaches ru, and ru's provider page matches it.
  const pdq = "a8124993a813a36fa8530bed46ebfe0413eab40c47eb42ae43eabddc2fef5488";
  await us.goto(`${demo.us}/cases/new?kind=content_report`);
  await us.fill("[name='title']", "Glorification images of Group X");
  await us.fill("[name='reporting_unit.name']", "FBI Internet Referral Unit");
  await us.fill("[name='reporting_unit.contact_person']", "Duty agent");
  await us.fill("[name='reporting_unit.email']", "iru@fbi.example");
  await us.fill("[name='provider']", "VideoHost (RU)");
  await us.selectOption("[name='tlp']", "amber");
  await us.fill("[name='items']", `pdq ${pdq} glorification removal_order Group X\nurl https://videohost.example.ru/watch/1 recruitment standard`);
  await us.check("[name='to'][value='ru']");
  await Promise.all([us.waitForNavigation(), us.click("form.request button[type=submit]")]);
  const reportUrl = us.url();
  assert.match(reportUrl, /\/cases\/us-[0-9a-f]+$/, "the report is sent");
  const reportId = reportUrl.split("/").pop();
  const provider = await login(browser, demo.ru, "provider", "ru-RU");
  let arrived = false;
  for (let i = 0; i < 50 && !arrived; i++) {
    const r = await provider.goto(`${demo.ru}/cases/${reportId}`);
    arrived = r.status() === 200 && (await provider.locator("#items tr.item").count()) === 2;
    if (!arrived) await provider.waitForTimeout(200);
  }
  assert.ok(arrived, "the report reaches ru's provider liaison with its two items");
  await shot(provider, "ru-content-report");
  const firstItem = provider.locator("#items tr.item[data-item='0']");
  await firstItem.locator("select[name=status]").selectOption("removed");
  await Promise.all([provider.waitForNavigation(), firstItem.locator("button").click()]);
  assert.equal(await provider.locator("#items tr.item[data-item='0'].status-removed").count(), 1, "answered removed");
  let matched = false;
  for (let i = 0; i < 50 && !matched; i++) {
    await provider.goto(`${demo.ru}/hashes`);
    await provider.fill("#lookup-form [name='hash']", pdq);
    await Promise.all([provider.waitForNavigation(), provider.click("#lookup-form button[type=submit]")]);
    matched = (await provider.locator("#matches tr.match").count()) === 1;
    if (!matched) await provider.waitForTimeout(300);
  }
  assert.ok(matched, "the agreed hash matches on ru's provider page");
  await shot(provider, "ru-hash-match");

  // 7. A user without the role is refused.
  const observer = await login(browser, demo.us, "observer", "en-US");
  const response = await observer.goto(caseUrl);
  assert.equal(response.status(), 403, "an observer may not read cases");
  assert.equal(await observer.locator("#forbidden").count(), 1);
  await shot(observer, "observer-forbidden");
  const transparency = await observer.goto(`${demo.us}/transparency`);
  assert.equal(transparency.status(), 200, "an observer sees the transparency report");

  // 8. Without a session, pages redirect to the login.
  const anonymous = await (await browser.newContext()).newPage();
  await anonymous.goto(`${demo.us}/cases`);
  assert.match(anonymous.url(), /\/login\?next=/);
  await shot(anonymous, "login");
  console.log(`ok — e2e UI scenario passed; screenshots in ${shots}`);
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
  demo.child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
