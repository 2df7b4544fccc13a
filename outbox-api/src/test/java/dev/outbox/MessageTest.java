package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageTest {

  @Test
  void isImmutableThroughDefensiveCopies() {
    byte[] key = {1, 2};
    byte[] payload = {3, 4};
    Map<String, String> headers = new HashMap<>(Map.of("a", "1"));
    Message m = Message.builder().namespace("n").key(key).payload(payload).headers(headers).build();

    key[0] = 9;
    payload[0] = 9;
    headers.put("b", "2");
    m.payload()[1] = 9;
    m.key()[1] = 9;

    assertThat(m.key()).containsExactly(1, 2);
    assertThat(m.payload()).containsExactly(3, 4);
    assertThat(m.headers()).containsExactly(Map.entry("a", "1"));
    assertThatThrownBy(() -> m.headers().put("c", "3"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void nullAndEmptyKeysAreDifferentValues() {
    Message noKey = Message.builder().namespace("n").payload("p").build();
    Message emptyKey = Message.builder().namespace("n").key(new byte[0]).payload("p").build();

    assertThat(noKey.key()).isNull();
    assertThat(emptyKey.key()).isEmpty();
    assertThat(noKey).isNotEqualTo(emptyKey);
    assertThat(emptyKey.toBuilder().build()).isEqualTo(emptyKey).hasSameHashCodeAs(emptyKey);
  }

  @Test
  void badFieldsAreNamed() {
    assertThatThrownBy(() -> Message.builder().payload("p").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("namespace is required");
    assertThatThrownBy(() -> Message.builder().namespace("x".repeat(256)).payload("p").build())
        .hasMessageContaining("256 characters long; the limit is 255");
    assertThatThrownBy(() -> Message.builder().namespace("n").build())
        .hasMessageContaining("payload is required");
    assertThatThrownBy(() -> Message.builder().header("", "v"))
        .hasMessageContaining("header name must not be null or empty");
    assertThatThrownBy(() -> Message.builder().header("h", null))
        .hasMessageContaining("header 'h' has a null value");
  }

  @Test
  void sizeCountsKeyPayloadNamespaceAndHeadersInUtf8() {
    Message m = Message.builder().namespace("né").key("k").payload("ü").header("h", "✓").build();

    assertThat(m.sizeInBytes()).isEqualTo(3 + 1 + 2 + 1 + 3);
  }

  @Test
  void loneSurrogatesAreRefusedInEveryTextFieldInsteadOfBecomingQuestionMarks() {
    assertThatThrownBy(() -> Message.builder().payload("ok \uD800 then"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("payload contains a lone high surrogate (U+D800) at index 3");
    assertThatThrownBy(() -> Message.builder().key("\uDC00"))
        .hasMessageContaining("key contains a lone low surrogate (U+DC00) at index 0");
    assertThatThrownBy(() -> Message.builder().header("trace\uD800", "v"))
        .hasMessageContaining("header name contains a lone high surrogate");
    assertThatThrownBy(() -> Message.builder().header("h", "x\uDBFF"))
        .hasMessageContaining("header 'h' value contains a lone high surrogate");
    assertThatThrownBy(() -> Message.builder().namespace("n\uDC00").payload("p").build())
        .hasMessageContaining("namespace contains a lone low surrogate");
  }

  @Test
  void nulIsRefusedInTextThatStoragesKeepAsTextButAllowedInBytes() {
    assertThatThrownBy(() -> Message.builder().namespace("a\u0000b").payload("p").build())
        .hasMessageContaining("namespace contains a NUL character (U+0000) at index 1");
    assertThatThrownBy(() -> Message.builder().header("h\u0000", "v"))
        .hasMessageContaining("header name contains a NUL character");
    assertThatThrownBy(() -> Message.builder().header("h", "\u0000"))
        .hasMessageContaining("header 'h' value contains a NUL character");

    Message m = Message.builder().namespace("n").key("k\u0000").payload("p\u0000").build();
    assertThat(m.payload()).containsExactly('p', 0);
    assertThat(m.key()).containsExactly('k', 0);
  }

  @Test
  void validSurrogatePairsAreKept() {
    Message m =
        Message.builder()
            .namespace("emoji \uD83D\uDE00")
            .payload("\uD83D\uDE00")
            .header("\uD83D\uDE00", "\uD83D\uDE00")
            .build();

    assertThat(m.payloadAsString()).isEqualTo("\uD83D\uDE00");
    assertThat(m.headers()).containsEntry("\uD83D\uDE00", "\uD83D\uDE00");
  }
}
