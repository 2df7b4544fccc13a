package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DescribeTest {

  @Test
  void nulsAndLoneSurrogatesAreReplacedSoEveryStorageCanRecordTheFailure() {
    String text =
        BatchProcessor.describe(
            new IllegalStateException("a\u0000b \uD800 c \uDC00 d \uD83D\uDE00"));

    assertThat(text)
        .isEqualTo("java.lang.IllegalStateException: a\uFFFDb \uFFFD c \uFFFD d \uD83D\uDE00");
  }

  @Test
  void aLongDescriptionIsShortenedWithoutSplittingASurrogatePair() {
    String text = BatchProcessor.describe(new RuntimeException("\uD83D\uDE00".repeat(3000)));

    assertThat(text).hasSizeLessThanOrEqualTo(FailedEntry.MAX_ERROR_LENGTH).endsWith("(shortened)");
    assertThat(Texts.problem(text, false)).isNull();
  }
}
