// Checkout's shared steps in the browser: the shipping address and the payment
// step's card field (the Stripe emulator's, whose inputs have only placeholders).

/** The emulator's test cards (localstripe follows Stripe's numbers). */
export const CARDS = {
  visa: '4242424242424242',
  declined: '4000000000000341',
  authenticate: '4000002500003155',
};

/** The emulator's card field is not the shop's: axe checks the rest. */
export const NOT_OURS = { exclude: ['#card-element'] };

/** An input of the emulator's card field, by its placeholder. */
export function cardField(page, name) {
  return page.locator(`#card-element input[placeholder="${name}"]`);
}

/** Types a card into the emulator's card field (and a postal code when given). */
export async function typeCard(page, number, { postalCode } = {}) {
  await cardField(page, 'number').fill(number);
  await cardField(page, 'exp_month').fill('12');
  await cardField(page, 'exp_year').fill('30');
  await cardField(page, 'cvc').fill('123');
  if (postalCode) await cardField(page, 'postal_code').fill(postalCode);
}

/** The address the suite ships to. */
export const ADA = { name: 'Ada Lovelace', line1: '12 St James Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' };

/** Fills the cart's address fields (the box "Ship to an address" already ticked). */
export async function fillAddress(page, address = ADA) {
  await page.getByLabel('Full name').fill(address.name);
  await page.getByLabel('Address line 1').fill(address.line1);
  await page.getByLabel('City').fill(address.city);
  await page.getByLabel('Postal code').fill(address.postalCode);
  await page.getByLabel('Country code').fill(address.country);
}

/** Ticks "Ship to an address" and fills the address. */
export async function shipTo(page, address = ADA) {
  await page.getByLabel('Ship to an address (optional)').check();
  await fillAddress(page, address);
}
