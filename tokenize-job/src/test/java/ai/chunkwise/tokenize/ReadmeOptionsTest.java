package ai.chunkwise.tokenize;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * README's tokenize-job command lines against tokenize-job's own {@code --help} (issue #20; train-job's
 * ReadmeCommandsTest does the same for train-job.jar and pipeline.jar): every option README gives the job is one
 * its usage help lists, and the quickstart's command parses as written.
 */
class ReadmeOptionsTest {
    private static final Pattern OPTION = Pattern.compile("(?<![\\w-])--[a-z][a-z0-9-]*");

    /** Code-block lines that run the jar, joined across "\" and indented continuation lines; and table rows. */
    private static List<String> commandLines() throws Exception {
        Path readme = Path.of("..", "README.md");   // the tests run in the module directory
        List<String> logical = new ArrayList<>();
        boolean inCode = false;
        boolean fresh = true;
        for (String line : Files.readAllLines(readme)) {
            if (line.startsWith("```")) {
                inCode = !inCode;
                fresh = true;
            } else if (inCode) {
                boolean continues = !fresh && (logical.get(logical.size() - 1).endsWith("\\")
                        || (!line.isEmpty() && Character.isWhitespace(line.charAt(0))));
                if (continues) {
                    logical.add(logical.remove(logical.size() - 1).replaceAll("\\\\$", "") + " " + line.strip());
                } else {
                    logical.add(line);
                }
                fresh = false;
            } else if (line.startsWith("| `java -jar")) {
                logical.add(line);
            }
        }
        return logical.stream().filter(l -> l.contains("tokenize-job.jar")).toList();
    }

    @Test
    void everyOptionReadmeGivesTheJobIsInItsHelp() throws Exception {
        CommandLine cli = TokenizeJob.commandLine();
        String help = cli.getUsageMessage(CommandLine.Help.Ansi.OFF);
        int checked = 0;
        for (String line : commandLines()) {
            Matcher m = OPTION.matcher(line.substring(line.indexOf("tokenize-job.jar")));
            while (m.find()) {
                String option = m.group();
                boolean negated = option.startsWith("--no-");
                String name = negated ? "--" + option.substring(5) : option;
                // a negatable option is listed as --[no-]name
                boolean listed = help.contains(option) || help.contains("--[no-]" + name.substring(2));
                assertTrue(listed && cli.getCommandSpec().findOption(name) != null,
                        "README gives " + option + " to tokenize-job, which its --help does not list: " + line);
                checked++;
            }
        }
        assertTrue(checked >= 25, "the quickstart's step 4 and the reference synopsis: " + checked + " options");
    }

    @Test
    void theQuickstartCommandParsesAsWritten() throws Exception {
        int parsed = 0;
        for (String line : commandLines()) {
            if (line.startsWith("java -jar tokenize-job/target/tokenize-job.jar --input out/")) {
                String[] args = line.substring(line.indexOf(".jar") + 4).strip().split("\\s+");
                assertNotNull(TokenizeJob.commandLine().parseArgs(args));
                parsed++;
            }
        }
        assertTrue(parsed == 1, "quickstart step 4 found: " + parsed);
    }
}
