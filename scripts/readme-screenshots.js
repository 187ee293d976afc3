#!/usr/bin/env node
/*
 * The READMEs' screenshots (docs/images/*.png), taken from a running ./scripts/demo.
 *
 * Not part of the demo or the tests; only for refreshing the pictures after a
 * change to what the integration shows. It needs Node.js 18 or later, a
 * Chromium and the playwright-core package, installed outside the repository:
 *
 *   mkdir -p /tmp/shots-node && (cd /tmp/shots-node && npm install playwright-core)
 *   ./scripts/demo --speed 1 --state-dir /tmp/demo-en                      # one terminal
 *   ./scripts/demo --speed 1 --language zh-Hans --port 8124 --base-port 6790 \
 *       --state-dir /tmp/demo-zh                                           # another
 *   NODE_PATH=/tmp/shots-node/node_modules node scripts/readme-screenshots.js \
 *       --state-dir /tmp/demo-en --url http://127.0.0.1:8123 --language en
 *   NODE_PATH=/tmp/shots-node/node_modules node scripts/readme-screenshots.js \
 *       --state-dir /tmp/demo-zh --url http://127.0.0.1:8124 --language zh-Hans
 *
 * --speed 1: at the demo's default 10x the appliances count down in real
 * seconds while their declared programmes stay in simulated ones, so a
 * washer's "Energy remaining" reads low. The script logs in with the login
 * the demo kept in its state folder, turns the air conditioner on (cool) with
 * energy optimisation, starts the washer (unless it runs) and waits --wait
 * seconds (default 420: it heats after filling), and writes, for the language:
 *
 *   docs/images/ac-device-<language>.png      the AC's device page, 1280x1330
 *   docs/images/ac-thermostat-<language>.png  its thermostat dialog, 1280x800
 *   docs/images/washer-sensors-<language>.png the washer's sensors, phone-sized
 *
 * as full-colour PNGs; reduce them to 128 colours (about 65 KB each) with
 *   .venv/bin/python -c 'import sys; from PIL import Image; [Image.open(p).convert("RGB").quantize(128, dither=Image.Dither.NONE).save(p, optimize=True) for p in sys.argv[1:]]' docs/images/*.png
 * Exits 1 with the reason when the demo is not there or a page does not load.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');
const { chromium } = require('playwright-core');

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8123' },
    'state-dir': { type: 'string', default: '.demo' },
    language: { type: 'string', default: 'en' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    wait: { type: 'string', default: '420' },
    out: { type: 'string', default: path.join(__dirname, '..', 'docs', 'images') },
  },
});

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const login = JSON.parse(fs.readFileSync(path.join(opt['state-dir'], 'credentials.json'), 'utf8'));
  const browser = await chromium.launch({ executablePath: opt.chromium, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(opt.url + '/');
    await page.locator('input[name="username"]').fill(login.username);
    await page.locator('input[name="password"]').fill(login.password);
    await page.keyboard.press('Enter');
    await page.waitForURL(/lovelace|home/, { timeout: 30000 });
    await page.waitForTimeout(2000);
    const hass = (fn, arg) => page.evaluate(fn, arg);
    const ws = (message) =>
      hass((m) => document.querySelector('home-assistant').hass.callWS(m), message);

    // The appliances by their model, their entities by translation key.
    const devices = await ws({ type: 'config/device_registry/list' });
    const device = (model) => devices.find((d) => (d.model_id || '').startsWith(model)).id;
    const ac = device('SIM-KFR'), washer = device('SIM-XQG');
    const entities = await ws({ type: 'config/entity_registry/list' });
    const entity = (domain, key, deviceId) =>
      entities.find(
        (e) => e.device_id === deviceId && e.entity_id.startsWith(domain + '.') &&
          (e.translation_key || null) === key,
      ).entity_id;
    const call = (domain, service, data) =>
      hass(([d, s, x]) => document.querySelector('home-assistant').hass.callService(d, s, x),
        [domain, service, data]);
    const climate = entity('climate', null, ac);
    await call('climate', 'set_hvac_mode', { entity_id: climate, hvac_mode: 'cool' });
    await call('switch', 'turn_on', { entity_id: entity('switch', 'energy_optimisation', ac) });
    const status = entity('sensor', 'operational_state', washer);
    const running = await hass((e) => document.querySelector('home-assistant').hass.states[e].state, status);
    if (running !== 'running') {
      await call('button', 'press', { entity_id: entity('button', 'start', washer) });
      console.log(`waiting ${opt.wait} s for the washer to heat ...`);
      await pause(Number(opt.wait) * 1000);
    }

    const file = (name) => path.join(opt.out, `${name}-${opt.language}.png`);
    fs.mkdirSync(opt.out, { recursive: true });
    // The thermostat over the AC's page. Waiting lets the logbook show translated
    // states: drawn before the translations are in, it keeps the raw ones.
    await page.goto(`${opt.url}/config/devices/device/${ac}`);
    await page.waitForTimeout(6000);
    await hass((entityId) => {
      const root = document.querySelector('home-assistant');
      root.dispatchEvent(new CustomEvent('hass-more-info',
        { detail: { entityId }, bubbles: true, composed: true }));
    }, climate);
    await page.waitForTimeout(3000);
    await page.screenshot({ path: file('ac-thermostat') });
    // The whole device page: controls, sensors and the energy status.
    await page.setViewportSize({ width: 1280, height: 1330 });
    await page.goto(`${opt.url}/config/devices/device/${ac}`);
    await page.waitForTimeout(5000);
    await page.screenshot({ path: file('ac-device') });
    // The washer on a phone, scrolled to its sensors card.
    await page.setViewportSize({ width: 430, height: 932 });
    await page.goto(`${opt.url}/config/devices/device/${washer}`);
    await page.waitForTimeout(5000);
    const top = await hass(() => {
      const find = (root) => {
        for (const el of root.querySelectorAll('*')) {
          if (el.tagName === 'HA-DEVICE-ENTITIES-CARD' && /sensor|传感器/i.test(el.header || '')) {
            return el;
          }
          const inner = el.shadowRoot && find(el.shadowRoot);
          if (inner) return inner;
        }
        return null;
      };
      const card = find(document);
      return card ? card.getBoundingClientRect().top : null;
    });
    if (top === null) throw new Error("the washer's sensors card is not on its page");
    await page.mouse.move(200, 400);
    await page.mouse.wheel(0, top - 64);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: file('washer-sensors') });
    for (const name of ['ac-thermostat', 'ac-device', 'washer-sensors']) console.log('wrote', file(name));
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(`readme-screenshots: ${err.message}`);
  process.exit(1);
});
