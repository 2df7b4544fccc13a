package dev.outbox.jdbc;

import java.util.regex.Pattern;

/**
 * A validated outbox table name, optionally qualified by a schema (PostgreSQL) or database (MySQL),
 * and the dead-letter table named after it. Each dialect gives the rules ({@link Rules}): which
 * identifiers pass, how long they may be, how they are quoted. Only names that pass are ever put
 * into SQL text, always quoted; every value is a bound parameter.
 */
final class TableName {

  /** Appended to the table name to name the dead-letter table. */
  static final String DEAD_LETTER_SUFFIX = "_dead_letters";

  /**
   * What a dialect allows.
   *
   * @param database the database's name, for messages
   * @param part the pattern each part must match
   * @param partRule the pattern in words, for messages
   * @param maxIdentifier the database's identifier limit; the table part leaves room for the suffix
   * @param quote the identifier quote character
   * @param qualifier what the part before the dot is called ("schema", "database")
   */
  record Rules(
      String database,
      Pattern part,
      String partRule,
      int maxIdentifier,
      char quote,
      String qualifier) {

    int maxTable() {
      return maxIdentifier - DEAD_LETTER_SUFFIX.length();
    }
  }

  private final Rules rules;
  private final String schema; // null when unqualified
  private final String table;

  private TableName(Rules rules, String schema, String table) {
    this.rules = rules;
    this.schema = schema;
    this.table = table;
  }

  /**
   * Parses {@code name}: {@code table} or {@code qualifier.table}.
   *
   * @throws IllegalArgumentException naming the bad value and the rule it breaks
   */
  static TableName parse(String name, Rules rules) {
    if (name == null) {
      throw new IllegalArgumentException("tableName must not be null");
    }
    int dot = name.indexOf('.');
    String schema = dot < 0 ? null : name.substring(0, dot);
    String table = dot < 0 ? name : name.substring(dot + 1);
    if (schema != null) {
      checkPart(name, rules.qualifier(), schema, rules.maxIdentifier(), rules);
    }
    checkPart(name, "table", table, rules.maxTable(), rules);
    return new TableName(rules, schema, table);
  }

  private static void checkPart(String name, String what, String part, int max, Rules rules) {
    if (!rules.part().matcher(part).matches()) {
      throw new IllegalArgumentException(
          "tableName \""
              + name
              + "\" is not allowed: its "
              + what
              + " part \""
              + part
              + "\" must be "
              + rules.partRule()
              + ", optionally qualified by one "
              + rules.qualifier()
              + " as "
              + rules.qualifier()
              + ".table");
    }
    if (part.length() > max) {
      throw new IllegalArgumentException(
          "tableName \""
              + name
              + "\" is not allowed: its "
              + what
              + " part is "
              + part.length()
              + " characters long; the limit is "
              + max
              + " ("
              + rules.database()
              + " keeps "
              + rules.maxIdentifier()
              + (max < rules.maxIdentifier()
                  ? ", and the dead-letter table adds \"" + DEAD_LETTER_SUFFIX + "\")"
                  : ")"));
    }
  }

  /** The name as given, e.g. {@code app.outbox}. */
  String name() {
    return schema == null ? table : schema + "." + table;
  }

  /** The outbox table, quoted for SQL. */
  String sql() {
    return qualified(table);
  }

  /** The dead-letter table's name as given, e.g. {@code app.outbox_dead_letters}. */
  String deadLetterName() {
    String dead = table + DEAD_LETTER_SUFFIX;
    return schema == null ? dead : schema + "." + dead;
  }

  /** The dead-letter table, quoted for SQL. */
  String deadLetterSql() {
    return qualified(table + DEAD_LETTER_SUFFIX);
  }

  /**
   * The MySQL/MariaDB lock table of the ordered publish, quoted for SQL: the outbox table's name
   * followed by {@code _key_locks} (shorter than the dead-letter suffix, so always a valid name).
   */
  String keyLocksSql() {
    return qualified(table + "_key_locks");
  }

  /**
   * The table part followed by {@code suffix}, quoted and unqualified: an index name. The suffix is
   * at most as long as the dead-letter suffix, so the name stays within the identifier limit.
   */
  String unqualifiedSql(String suffix) {
    if (suffix.length() > DEAD_LETTER_SUFFIX.length()) {
      throw new IllegalArgumentException("suffix " + suffix + " is too long");
    }
    return quote(table + suffix);
  }

  private String qualified(String t) {
    return schema == null ? quote(t) : quote(schema) + "." + quote(t);
  }

  private String quote(String identifier) {
    return rules.quote() + identifier + rules.quote(); // validated: holds no quote character
  }

  @Override
  public String toString() {
    return name();
  }
}
