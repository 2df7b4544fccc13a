package dev.outbox.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeadersJsonTest {

  @Test
  void roundTripsAwkwardStrings() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("quote\"back\\slash", "new\nline\ttab\r\u0001\u001f");
    h.put("unicode ✓ 世界 😀", "");
    h.put("/", "</script>");

    assertThat(HeadersJson.decode(HeadersJson.encode(h))).isEqualTo(h);
    assertThat(HeadersJson.encode(Map.of())).isEqualTo("{}");
  }

  @Test
  void readsWhatDatabasesPrintBack() {
    assertThat(HeadersJson.decode(" { \"a\" : \"1\", \"b\": \"\\u00e9\\/\" } "))
        .containsExactly(Map.entry("a", "1"), Map.entry("b", "é/"));
    assertThat(HeadersJson.decode(null)).isEmpty();
    assertThat(HeadersJson.decode("{}")).isEmpty();
  }

  @Test
  void refusesAnythingButAFlatObjectOfStrings() {
    assertThatThrownBy(() -> HeadersJson.decode("{\"a\":1}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a flat JSON object of strings");
    assertThatThrownBy(() -> HeadersJson.decode("[]")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HeadersJson.decode("{\"a\":\"1\"} x"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
