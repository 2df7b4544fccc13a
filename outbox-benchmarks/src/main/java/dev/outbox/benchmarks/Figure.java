package dev.outbox.benchmarks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** One reported figure: its samples (one per run) and their median, minimum and maximum. */
final class Figure {

  private final String name;
  private final String unit;
  private final String description;
  private final List<Double> samples = new ArrayList<>();

  Figure(String name, String unit, String description) {
    this.name = name;
    this.unit = unit;
    this.description = description;
  }

  String name() {
    return name;
  }

  String unit() {
    return unit;
  }

  String description() {
    return description;
  }

  void add(double sample) {
    samples.add(sample);
  }

  int count() {
    return samples.size();
  }

  double median() {
    List<Double> s = sorted();
    int n = s.size();
    if (n == 0) {
      return Double.NaN;
    }
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }

  double min() {
    return samples.isEmpty() ? Double.NaN : Collections.min(samples);
  }

  double max() {
    return samples.isEmpty() ? Double.NaN : Collections.max(samples);
  }

  private List<Double> sorted() {
    List<Double> s = new ArrayList<>(samples);
    Collections.sort(s);
    return s;
  }

  /** The {@code p}-th percentile (0 to 100) of {@code values}, nearest-rank; NaN when empty. */
  static double percentile(long[] sortedValues, int count, double p) {
    if (count == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * count);
    return sortedValues[Math.max(0, Math.min(count - 1, rank - 1))];
  }
}
