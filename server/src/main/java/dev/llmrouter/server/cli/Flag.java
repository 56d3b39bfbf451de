package dev.llmrouter.server.cli;

/**
 * A flag a command takes: {@code --name VALUE}, or a switch such as {@code --dry-run} when it has no value name.
 *
 * @param valueName how the help names the value ({@code DIR}, {@code FILE}), empty for a switch
 * @param description what the help says of it; lines after the first are indented by the help
 */
record Flag(String name, String valueName, String description) {

  static Flag withValue(String name, String valueName, String description) {
    return new Flag(name, valueName, description);
  }

  static Flag toggle(String name, String description) {
    return new Flag(name, "", description);
  }

  boolean takesValue() {
    return !valueName.isEmpty();
  }

  /** The flag as the help writes it: {@code --cassettes DIR}. */
  String term() {
    return takesValue() ? name + " " + valueName : name;
  }
}
