// The demo shop: every click is a touchpoint of this visitor's journey, scored by jornada in
// WebAssembly; the journey is kept in localStorage between visits.
import init, { Journey, presetModel } from '../pkg/web/jornada_wasm.js';
import { DEMO_SCORING } from './scoring.js';

const STORAGE_KEY = 'jornada-demo-journey';
const CART_KEY = 'jornada-demo-cart';
const PRODUCTS = [
  { sku: 'A1', name: 'Trail shoes', price: 89, details: 'Light, grippy, waterproof.' },
  { sku: 'B2', name: 'Rain jacket', price: 129, details: 'Packs into its own pocket.' },
  { sku: 'C3', name: 'Day pack', price: 59, details: '20 litres, two side pockets.' },
];
const STAGE_LABELS = {
  visitor: 'Visitor', browsing: 'Browsing', interested: 'Interested', cart: 'Cart',
  abandoned_cart: 'Abandoned cart', customer: 'Customer', repeat_customer: 'Repeat customer',
  advocate: 'Advocate', lapsed: 'Lapsed',
};

await init();
const model = { ...JSON.parse(presetModel('ecommerce')), scoring: DEMO_SCORING };
const $ = (id) => document.getElementById(id);

function loadJourney() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved) {
    try {
      return Journey.load(model, saved);
    } catch (e) {
      // model_mismatch (the shop changed its model) or corrupt_snapshot: start afresh.
      console.warn(`saved journey not used: [${e.code}] ${e.message}`);
    }
  }
  return new Journey(model);
}

let journey = loadJourney();
let cart = JSON.parse(localStorage.getItem(CART_KEY) ?? '[]');
journey.advanceTo(Date.now()); // timeouts due while the visitor was away fire now

function touch(kind, properties) {
  const out = journey.push({ channel: 'web', kind, at: Date.now(), properties });
  localStorage.setItem(STORAGE_KEY, journey.save());
  localStorage.setItem(CART_KEY, JSON.stringify(cart));
  const offers = out.actions.filter((a) => a.params.percent);
  $('message').textContent = offers.map((a) => `Offer: ${a.params.percent}% off with code ${a.params.code ?? 'at checkout'}`).join(' ');
  render();
}

function duration(ms) {
  const h = ms / 3_600_000;
  return h < 48 ? `${Math.round(h)} h` : `${Math.round(h / 24)} days`;
}

function describe(next) {
  if (!next) return 'none';
  const what = next.actions.map((a) => a.action.replaceAll('_', ' ')).join(', ') || `move to ${next.to}`;
  if (next.trigger === 'timeout') {
    const due = new Date(next.due).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
    return `${what} on ${due} unless ${next.unless.join(' or ')}`;
  }
  const count = next.count ? `${next.count.atLeast}× ` : '';
  return `${what} after ${count}${next.on.join(' or ').replaceAll('_', ' ')}`;
}

function render() {
  const s = journey.score();
  $('stage').textContent = s.stage ? STAGE_LABELS[s.stage] ?? s.stage : 'not started';
  $('stage').dataset.stage = s.stage ?? '';
  $('progress').style.width = `${Math.round(s.progress * 100)}%`;
  $('progress').parentElement.setAttribute('aria-valuenow', String(Math.round(s.progress * 100)));
  $('probability').textContent = s.probabilityToConvert === undefined
    ? '—'
    : `${Math.round(s.probabilityToConvert * 100)}%` + (s.expectedTimeToConvert ? ` (usually within ${duration(s.expectedTimeToConvert)})` : '');
  // The first thing the model would do that emits an action.
  $('next').textContent = describe(s.nextActions.find((n) => n.actions.length > 0));
  $('effort').textContent = `${s.effort.touches} touches, ${s.effort.channels} channel(s), ${s.effort.channelSwitches} switch(es)`;
  $('cart-count').textContent = String(cart.length);
  $('cart-items').replaceChildren(...cart.map((sku) => {
    const li = document.createElement('li');
    li.textContent = PRODUCTS.find((p) => p.sku === sku)?.name ?? sku;
    return li;
  }));
  $('checkout').disabled = cart.length === 0;
}

for (const p of PRODUCTS) {
  const card = document.createElement('article');
  card.className = 'product';
  card.innerHTML = `<h3></h3><div class="price"></div><div class="details"></div>
    <button class="secondary view">View</button> <button class="add">Add to cart</button>`;
  card.querySelector('h3').textContent = p.name;
  card.querySelector('.price').textContent = `€${p.price}`;
  card.querySelector('.details').textContent = '';
  card.querySelector('.view').dataset.sku = p.sku;
  card.querySelector('.add').dataset.sku = p.sku;
  card.querySelector('.view').addEventListener('click', () => {
    card.querySelector('.details').textContent = p.details;
    touch('product_view', { sku: p.sku });
  });
  card.querySelector('.add').addEventListener('click', () => {
    cart.push(p.sku);
    touch('add_to_cart', { sku: p.sku });
  });
  $('products').append(card);
}
$('checkout').addEventListener('click', () => {
  $('buy').hidden = false;
  touch('checkout');
});
$('buy').addEventListener('click', () => {
  cart = [];
  $('buy').hidden = true;
  touch('purchase');
  $('message').textContent = 'Thank you for your order!';
});
$('reset').addEventListener('click', () => {
  localStorage.removeItem(STORAGE_KEY);
  localStorage.removeItem(CART_KEY);
  journey.free();
  journey = new Journey(model);
  cart = [];
  $('message').textContent = '';
  render();
});
render();
document.body.dataset.ready = 'true';
