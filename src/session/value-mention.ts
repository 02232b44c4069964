/**
 * Does a piece of LLM text name a claim value (a date, an amount, a number)? The respond turn holds
 * such text back, while the request offers tools that record values, until the response is known
 * to carry no tool call: the caller must never hear a value confirmed that the claim then refuses.
 * Text without a value cannot confirm one, so it streams as it comes.
 */

const VALUE_WORDS = new RegExp(
  '\\b(' +
    [
      'january|february|march|april|may|june|july|august|september|october|november|december',
      'monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tonight|ago',
      'zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen',
      'sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety',
      'hundred|thousand|million|grand|dollars?|bucks|cents?',
      'first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\\w+teenth|\\w+tieth',
    ].join('|') +
    ')\\b',
  'i',
);

/** True when `text` mentions a date, a number or money (digits, `$`, month and number words). */
export function mentionsValue(text: string): boolean {
  return /[\d$]/.test(text) || VALUE_WORDS.test(text);
}
