package dev.outbox.mysql;

import java.util.regex.Pattern;

/**
 * A validated table name, optionally qualified by a database ({@code shop.outbox}), and the name of
 * its dead-letter table. Only letters, digits and underscores pass, so the quoted names can be put
 * into SQL text safely; values are always bound as parameters.
 */
record TableName(String database, String table) {

  static final String DEAD_LETTER_SUFFIX = "_dead_letters";

  /** MySQL's identifier limit, less the dead-letter suffix that must still fit. */
  static final int MAX_TABLE_LENGTH = 64 - DEAD_LETTER_SUFFIX.length();

  private static final int MAX_DATABASE_LENGTH = 64;
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  /**
   * Parses and validates {@code name}.
   *
   * @return the reason the name is refused, or {@code null} when it is valid
   */
  static String problem(String name) {
    if (name == null) {
      return "tableName must not be null";
    }
    String[] parts = name.split("\\.", -1);
    if (parts.length > 2) {
      return "tableName '" + name + "' has more than one '.'; use table or database.table";
    }
    String table = parts[parts.length - 1];
    if (parts.length == 2 && !validIdentifier(parts[0], MAX_DATABASE_LENGTH)) {
      return "tableName '"
          + name
          + "' has an invalid database part '"
          + parts[0]
          + "'; allowed are 1 to "
          + MAX_DATABASE_LENGTH
          + " letters, digits and underscores, not starting with a digit";
    }
    if (!validIdentifier(table, MAX_TABLE_LENGTH)) {
      return "tableName '"
          + name
          + "' is invalid; allowed are 1 to "
          + MAX_TABLE_LENGTH
          + " letters (A-Z, a-z), digits and underscores, not starting with a digit, optionally"
          + " prefixed by 'database.' (the limit leaves room for the '"
          + DEAD_LETTER_SUFFIX
          + "' table)";
    }
    return null;
  }

  /** A valid name; call {@link #problem} first. */
  static TableName of(String name) {
    String problem = problem(name);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    int dot = name.indexOf('.');
    return dot < 0
        ? new TableName(null, name)
        : new TableName(name.substring(0, dot), name.substring(dot + 1));
  }

  private static boolean validIdentifier(String s, int maxLength) {
    return !s.isEmpty() && s.length() <= maxLength && IDENTIFIER.matcher(s).matches();
  }

  /** The outbox table, quoted for SQL: {@code `outbox`} or {@code `shop`.`outbox`}. */
  String outbox() {
    return quoted(table);
  }

  /** The dead-letter table, quoted for SQL. */
  String deadLetters() {
    return quoted(table + DEAD_LETTER_SUFFIX);
  }

  private String quoted(String t) {
    return database == null ? "`" + t + "`" : "`" + database + "`.`" + t + "`";
  }

  @Override
  public String toString() {
    return database == null ? table : database + "." + table;
  }
}
