package ai.chunkwise.train.cli;

import ai.chunkwise.pipeline.cli.PipelineCli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * README's commands and options against the jars' own {@code --help} (issue #20): every command line of the README
 * that runs train-job.jar or pipeline.jar names only subcommands and options that the jar's usage help lists, and
 * the commands of its bash blocks parse as they are written. tokenize-job.jar's are checked by tokenize-job's
 * ReadmeOptionsTest (its classes are not on this module's test class path).
 */
class ReadmeCommandsTest {
    private static final Pattern JAR = Pattern.compile("(pipeline|tokenize-job|train-job)\\.jar\\b");
    private static final Pattern OPTION = Pattern.compile("(?<![\\w-])--[a-z][a-z0-9-]*");
    private static final Pattern INLINE = Pattern.compile("`((?:train|eval|grad|inspect|run) --[^`]*)`");

    /** One use of a jar in README: the jar, the line as written, the words after the jar, whether it is runnable. */
    private record Use(String jar, String line, List<String> words, boolean runnable) {
    }

    private static List<String> readme() throws Exception {
        Path file = Path.of("..", "README.md");   // the tests run in the module directory
        assertTrue(Files.isRegularFile(file), file.toAbsolutePath().toString());
        return Files.readAllLines(file);
    }

    /** Every jar invocation: code-block lines (joined across "\" and indented continuation lines) and table rows. */
    private static List<Use> uses(List<String> lines) {
        List<Use> uses = new ArrayList<>();
        boolean inCode = false;
        boolean bash = false;
        List<String> logical = new ArrayList<>();
        List<Boolean> logicalBash = new ArrayList<>();
        boolean fresh = true;
        for (String line : lines) {
            if (line.startsWith("```")) {
                inCode = !inCode;
                bash = inCode && line.startsWith("```bash");
                fresh = true;
                continue;
            }
            if (inCode) {
                boolean continues = !fresh && (logical.get(logical.size() - 1).endsWith("\\")
                        || Character.isWhitespace(line.isEmpty() ? 'x' : line.charAt(0)));
                fresh = false;
                if (continues) {
                    String prev = logical.remove(logical.size() - 1);
                    logical.add(prev.replaceAll("\\\\$", "") + " " + line.strip());
                } else {
                    logical.add(line);
                    logicalBash.add(bash);
                }
            } else if (line.startsWith("| `java -jar")) {
                logical.add(line);
                logicalBash.add(false);
            }
        }
        for (int i = 0; i < logical.size(); i++) {
            String l = logical.get(i);
            Matcher m = JAR.matcher(l);
            if (m.find() && !l.contains("bench.jar")) {
                String rest = l.substring(m.end()).replace('`', ' ').strip();   // table rows quote in backticks
                uses.add(new Use(m.group(1), l, List.of(rest.split("\\s+")), logicalBash.get(i)));
            }
        }
        return uses;
    }

    private static CommandLine command(String jar, List<String> words) {
        return switch (jar) {
            case "train-job" -> TrainCli.commandLine().getSubcommands().get(words.get(0));
            case "pipeline" -> pipeline().getSubcommands().get(words.get(0));
            default -> throw new AssertionError(jar);
        };
    }

    private static CommandLine pipeline() {
        try {
            java.lang.reflect.Constructor<PipelineCli> c = PipelineCli.class.getDeclaredConstructor();
            c.setAccessible(true);
            return new CommandLine(c.newInstance());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void everyCommandAndOptionInReadmeIsInTheJarsHelp() throws Exception {
        List<Use> uses = uses(readme());
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (Use u : uses) {
            if (u.jar().equals("tokenize-job")) {
                seen.merge(u.jar(), 1, Integer::sum);
                continue;
            }
            CommandLine cmd = command(u.jar(), u.words());
            assertNotNull(cmd, "README runs " + u.jar() + ".jar " + u.words().get(0) + ", which is no command of its "
                    + "--help: " + u.line());
            String help = cmd.getUsageMessage(CommandLine.Help.Ansi.OFF);
            Matcher m = OPTION.matcher(String.join(" ", u.words()));
            while (m.find()) {
                String option = m.group();
                // a negatable option is listed as --[no-]name
                String name = option.startsWith("--no-") ? "--" + option.substring(5) : option;
                boolean listed = help.contains(option) || help.contains("--[no-]" + name.substring(2));
                assertTrue(listed && cmd.getCommandSpec().findOption(name) != null,
                        "README gives " + option + " to " + u.jar() + ".jar " + cmd.getCommandName()
                                + ", which its --help does not list: " + u.line());
                seen.merge(u.jar(), 1, Integer::sum);
            }
        }
        // the README's quickstart, reference tables and synopsis are all found
        assertTrue(seen.getOrDefault("train-job", 0) >= 20, seen.toString());
        assertTrue(seen.getOrDefault("tokenize-job", 0) >= 3, "step 4, the table and the synopsis: " + seen);
        assertTrue(uses.stream().anyMatch(u -> u.jar().equals("pipeline") && u.words().get(0).equals("run")), uses.toString());
    }

    @Test
    void inlineCommandsInReadmeNameRealOptions() throws Exception {
        int checked = 0;
        for (String line : readme()) {
            Matcher m = INLINE.matcher(line);
            while (m.find()) {
                List<String> words = List.of(m.group(1).split("\\s+"));
                String jar = words.get(0).equals("inspect") || words.get(0).equals("run") ? "pipeline" : "train-job";
                CommandLine cmd = command(jar, words);
                Matcher o = OPTION.matcher(m.group(1));
                while (o.find()) {
                    assertNotNull(cmd.getCommandSpec().findOption(o.group()),
                            "README's `" + m.group(1) + "`: " + o.group() + " is not an option of " + words.get(0));
                    checked++;
                }
            }
        }
        assertTrue(checked >= 1, "README's inline commands were found");
    }

    @Test
    void theReadmesBashCommandsParseAsWritten() throws Exception {
        int parsed = 0;
        for (Use u : uses(readme())) {
            if (!u.runnable() || u.jar().equals("tokenize-job")) {
                continue;
            }
            List<String> args = new ArrayList<>(u.words());
            args.removeIf(w -> w.equals("&&"));
            CommandLine top = switch (u.jar()) {
                case "train-job" -> TrainCli.commandLine();
                default -> pipeline();
            };
            try {
                top.parseArgs(args.toArray(String[]::new));
            } catch (CommandLine.ParameterException e) {
                throw new AssertionError("README's command does not parse (" + e.getMessage() + "): " + u.line(), e);
            }
            parsed++;
        }
        assertEquals(3, parsed, "the main command and quickstart steps 5 and 6");
    }
}
