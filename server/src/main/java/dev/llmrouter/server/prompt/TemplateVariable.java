package dev.llmrouter.server.prompt;

import com.google.protobuf.ListValue;
import com.google.protobuf.Value;
import dev.llmrouter.api.v1.PromptVariable;
import dev.llmrouter.api.v1.PromptVariableType;
import java.math.BigDecimal;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One variable of a template: its type, whether it must be given, its default, and the checks its values pass.
 *
 * @param definition the variable as `PromptService` shows it
 * @param pattern {@code definition.pattern} compiled; empty when there is none
 */
record TemplateVariable(PromptVariable definition, Optional<Pattern> pattern) {

  /** Integral doubles up to 2^53 are exact. */
  private static final double LARGEST_EXACT_INTEGER = 0x1p53;

  String name() {
    return definition.getName();
  }

  /** What is wrong with {@code value} for this variable; empty when it fits. */
  Optional<String> problem(Value value) {
    PromptVariable d = definition;
    return switch (d.getType()) {
      case PROMPT_VARIABLE_TYPE_STRING -> {
        if (!value.hasStringValue()) {
          yield Optional.of("must be a string, not " + kindOf(value));
        }
        int length = value.getStringValue().codePointCount(0, value.getStringValue().length());
        if (d.hasMaxLength() && length > d.getMaxLength()) {
          yield Optional.of("must be at most " + d.getMaxLength() + " characters, not " + length);
        }
        if (d.hasMinLength() && length < d.getMinLength()) {
          yield Optional.of("must be at least " + d.getMinLength() + " characters, not " + length);
        }
        if (pattern.isPresent() && !pattern.get().matcher(value.getStringValue()).matches()) {
          yield Optional.of("must match the pattern " + d.getPattern());
        }
        yield Optional.empty();
      }
      case PROMPT_VARIABLE_TYPE_INTEGER, PROMPT_VARIABLE_TYPE_NUMBER -> {
        boolean integer = d.getType() == PromptVariableType.PROMPT_VARIABLE_TYPE_INTEGER;
        if (!value.hasNumberValue() || !Double.isFinite(value.getNumberValue())) {
          yield Optional.of("must be " + (integer ? "a whole number" : "a number") + ", not " + kindOf(value));
        }
        double number = value.getNumberValue();
        if (integer && (number != Math.rint(number) || Math.abs(number) > LARGEST_EXACT_INTEGER)) {
          yield Optional.of("must be a whole number, not " + text(value));
        }
        if (d.hasMinimum() && number < d.getMinimum()) {
          yield Optional.of("must be at least " + number(d.getMinimum()) + ", not " + text(value));
        }
        if (d.hasMaximum() && number > d.getMaximum()) {
          yield Optional.of("must be at most " + number(d.getMaximum()) + ", not " + text(value));
        }
        yield Optional.empty();
      }
      case PROMPT_VARIABLE_TYPE_BOOLEAN -> value.hasBoolValue() ? Optional.empty()
          : Optional.of("must be true or false, not " + kindOf(value));
      case PROMPT_VARIABLE_TYPE_ENUM -> value.hasStringValue() && d.getValuesList().contains(value.getStringValue())
          ? Optional.empty() : Optional.of("must be one of " + d.getValuesList() + ", not "
          + (value.hasStringValue() ? "'" + value.getStringValue() + "'" : kindOf(value)));
      case PROMPT_VARIABLE_TYPE_LIST -> {
        if (!value.hasListValue()) {
          yield Optional.of("must be a list, not " + kindOf(value));
        }
        ListValue list = value.getListValue();
        if (d.hasMaxItems() && list.getValuesCount() > d.getMaxItems()) {
          yield Optional.of("must have at most " + d.getMaxItems() + " items, not " + list.getValuesCount());
        }
        for (int i = 0; i < list.getValuesCount(); i++) {
          Value item = list.getValues(i);
          if (!item.hasStringValue() && !item.hasNumberValue() && !item.hasBoolValue()) {
            yield Optional.of("item " + i + " must be a string, a number or true/false, not " + kindOf(item));
          }
        }
        yield Optional.empty();
      }
      default -> Optional.of("has no type");
    };
  }

  /** The text a value (that passed {@link #problem}) is rendered as. */
  String text(Value value) {
    return switch (value.getKindCase()) {
      case STRING_VALUE -> value.getStringValue();
      case NUMBER_VALUE -> number(value.getNumberValue());
      case BOOL_VALUE -> Boolean.toString(value.getBoolValue());
      case LIST_VALUE -> value.getListValue().getValuesList().stream().map(this::text)
          .collect(Collectors.joining(definition.getSeparator()));
      default -> "";
    };
  }

  /** A number in its shortest plain form: 3, not 3.0; 0.5; 12000000, not 1.2E7. */
  private static String number(double number) {
    return BigDecimal.valueOf(number).stripTrailingZeros().toPlainString();
  }

  private static String kindOf(Value value) {
    return switch (value.getKindCase()) {
      case STRING_VALUE -> "a string";
      case NUMBER_VALUE -> "a number";
      case BOOL_VALUE -> "true/false";
      case LIST_VALUE -> "a list";
      case STRUCT_VALUE -> "an object";
      default -> "null";
    };
  }

  /** The names of the types, as template files write them. */
  static final List<String> TYPE_NAMES = List.of("string", "integer", "number", "boolean", "enum", "list");
}
