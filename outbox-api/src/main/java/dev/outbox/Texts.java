package dev.outbox;

/**
 * The text rules every storage and broker can keep exactly: no NUL character (PostgreSQL's text
 * types refuse it, others keep it) and no lone UTF-16 surrogate (it has no UTF-8 form, so encoding
 * would silently turn it into {@code ?}). Internal.
 */
final class Texts {

  private Texts() {}

  /** Why {@code s} cannot be kept as text, or null when it can. */
  static String problem(String s, boolean nulAllowed) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\0' && !nulAllowed) {
        return "contains a NUL character (U+0000) at index " + i;
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
          continue;
        }
        return "contains a lone high surrogate (U+" + hex(c) + ") at index " + i;
      }
      if (Character.isLowSurrogate(c)) {
        return "contains a lone low surrogate (U+" + hex(c) + ") at index " + i;
      }
    }
    return null;
  }

  /** {@code s} with NULs and lone surrogates replaced by U+FFFD: for descriptions, never data. */
  static String sanitize(String s) {
    if (problem(s, false) == null) {
      return s;
    }
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        out.append(c).append(s.charAt(++i));
      } else if (c == '\0' || Character.isSurrogate(c)) {
        out.append('\uFFFD');
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static String hex(char c) {
    return String.format("%04X", (int) c);
  }
}
