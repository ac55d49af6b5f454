/**
 * QR codes for the authenticator-app setup page, drawn on the server by the `qrcode` package as SVG
 * (no script in the browser, nothing sent to a third party: the picture carries the TOTP secret).
 *
 * @module
 */
import QRCode from "qrcode";

/** The longest text encoded: an `otpauth://` URI is about 150 characters; the limit keeps the work bounded. */
const MAX_QR_TEXT = 1024;

/**
 * `text` as a QR code (error correction M, a quiet zone of 4 modules as the standard asks), in a
 * `data:image/svg+xml` URL for an `<img>`: the page's CSP allows `data:` images, and an image keeps
 * the generated markup out of the page's own HTML.
 *
 * @example
 * ```ts
 * const src = await qrCodeDataUrl("otpauth://totp/Demo:alice?secret=JBSWY3DPEHPK3PXP&issuer=Demo");
 * // "data:image/svg+xml;base64,PHN2Zy..."
 * ```
 */
export async function qrCodeDataUrl(text: string): Promise<string> {
  if (text.length > MAX_QR_TEXT) throw new RangeError(`QR code text over ${MAX_QR_TEXT} characters`);
  const svg = await QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: 4 });
  return `data:image/svg+xml;base64,${Buffer.from(svg, "utf8").toString("base64")}`;
}
