// Passkeys (WebAuthn) for the reference app: signing in with a passkey (a button, and autofill on the
// login form where the browser offers it) and registering one on the account page. Served from
// /static (the CSP allows scripts from the site only, no inline code). The pages work without it:
// its buttons stay hidden until this script finds a browser that can use them.
//
// Every request is a same-origin POST of JSON carrying the page's CSRF token in `x-csrf-token`.
// The server answers errors as `{ "error": "...", "message": "..." }` with a 4xx status.

const JSON_WEBAUTHN =
  typeof window.PublicKeyCredential === "function" &&
  typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
  typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

/** Browsers refuse passkeys on a site opened at an IP address (`http://127.0.0.1:5000`). */
const AT_IP_ADDRESS = /^(\d{1,3}\.){3}\d{1,3}$|^\[/.test(window.location.hostname);

/** The CSRF token of the page's forms. */
function csrfToken() {
  const input = document.querySelector('input[name="_csrf"]');
  return input instanceof HTMLInputElement ? input.value : "";
}

/** POSTs `body` as JSON to `url`; resolves the parsed answer, or throws an Error with its message. */
async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      "x-csrf-token": csrfToken(),
    },
    body: JSON.stringify(body),
  });
  let answer = {};
  try {
    answer = await response.json();
  } catch {
    answer = {};
  }
  if (response.ok) return answer;
  if (answer.error === "needs_refresh") {
    // A stale login: confirm it's you, then come back to this page.
    window.location.assign(`/reauth?next=${encodeURIComponent(window.location.pathname)}`);
  }
  throw new Error(answer.message || "Something went wrong. Please try again.");
}

/** Shows `message` in the element named by the control's `data-passkey-error` (or clears it). */
function showError(control, message) {
  const id = control.getAttribute("data-passkey-error");
  const target = id ? document.getElementById(id) : null;
  if (!target) return;
  target.textContent = message;
  target.hidden = message === "";
}

/** What a failed ceremony tells the person: the browser's own errors get plain words. */
function describe(error) {
  if (error && error.name === "NotAllowedError") return "The passkey request was cancelled or timed out.";
  if (error && error.name === "InvalidStateError")
    return "This device already holds a passkey for your account.";
  return error instanceof Error ? error.message : String(error);
}

/** Where a sign-in goes (`data-passkey-get`), and the remember-me choice and `next` of its form. */
function signInDetails(control) {
  const form = control.closest("form") || document;
  const remember = form.querySelector('input[name="remember"]');
  const next = form.querySelector('input[name="next"]');
  return {
    base: control.getAttribute("data-passkey-get"),
    // Read when the passkey is used: with autofill, the person may tick the box after the page loaded.
    remember: () => remember instanceof HTMLInputElement && remember.checked,
    next: next instanceof HTMLInputElement ? next.value : "",
  };
}

/**
 * One authentication ceremony: options, the browser's `get`, then the server's verdict and redirect.
 * An autofill request (`mediation: "conditional"`) that ends before the person picks a passkey
 * (aborted, refused by the browser, no options) fails silently: the person never asked for it.
 */
async function authenticate(details, mediation, signal) {
  let credential;
  try {
    const options = await postJson(`${details.base}/options`, {});
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
    const request = { publicKey, signal };
    if (mediation) request.mediation = mediation;
    credential = await navigator.credentials.get(request);
  } catch (error) {
    if (mediation === "conditional") return;
    throw error;
  }
  if (!credential) throw new Error("No passkey was chosen.");
  const result = await postJson(`${details.base}/verify`, {
    credential: credential.toJSON(),
    remember: details.remember(),
    next: details.next,
  });
  window.location.assign(result.redirect || "/");
}

/** A pending autofill request, aborted when the person presses the button instead. */
let autofill = null;

function startAutofill(input) {
  if (typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") return;
  PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
    if (!available) return;
    autofill = new AbortController();
    const details = signInDetails(input);
    details.base = input.getAttribute("data-passkey-autofill");
    authenticate(details, "conditional", autofill.signal).catch((error) => {
      if (error && error.name === "AbortError") return;
      showError(input, describe(error));
    });
  });
}

function wireSignIn(button) {
  button.hidden = false;
  button.addEventListener("click", (event) => {
    event.preventDefault();
    if (autofill) autofill.abort();
    autofill = null;
    showError(button, "");
    button.disabled = true;
    authenticate(signInDetails(button), undefined, undefined).catch((error) => {
      button.disabled = false;
      showError(button, describe(error));
    });
  });
}

function wireRegistration(form) {
  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const submit = form.querySelector('button[type="submit"]');
    const labelInput = form.querySelector('input[name="label"]');
    const label = labelInput instanceof HTMLInputElement ? labelInput.value : "";
    showError(form, "");
    if (submit) submit.disabled = true;
    register(form.getAttribute("data-passkey-register"), label).catch((error) => {
      if (submit) submit.disabled = false;
      showError(form, describe(error));
    });
  });
}

async function register(base, label) {
  const options = await postJson(`${base}/options`, {});
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
  const credential = await navigator.credentials.create({ publicKey });
  if (!credential) throw new Error("No passkey was created.");
  const result = await postJson(`${base}/verify`, { credential: credential.toJSON(), label });
  window.location.assign(result.redirect || "/account");
}

if (JSON_WEBAUTHN && !AT_IP_ADDRESS) {
  for (const button of document.querySelectorAll("[data-passkey-get]")) wireSignIn(button);
  for (const form of document.querySelectorAll("form[data-passkey-register]")) wireRegistration(form);
  const input = document.querySelector("input[data-passkey-autofill]");
  if (input) startAutofill(input);
} else {
  const notes = AT_IP_ADDRESS ? "[data-passkey-ip]" : "[data-passkey-unsupported]";
  for (const note of document.querySelectorAll(notes)) note.hidden = false;
}
