/**
 * @module An ink view that shows lines (a diff) and asks yes or no.
 */
import { Box, Text, render, useApp, useInput } from "ink";

function Confirm(props: { title: string; lines: string[]; onAnswer: (yes: boolean) => void }) {
  const { exit } = useApp();
  useInput((input, key) => {
    const answer = input.toLowerCase();
    if (answer === "y" || answer === "n" || key.escape || key.return) {
      props.onAnswer(answer === "y");
      exit();
    }
  });
  return (
    <Box flexDirection="column">
      <Text bold>{props.title}</Text>
      {props.lines.map((line, i) => (
        <Text key={i} color={line.startsWith("+") ? "green" : line.startsWith("-") ? "red" : line.startsWith("~") ? "yellow" : undefined}>
          {line}
        </Text>
      ))}
      <Text>Apply these changes? [y/N]</Text>
    </Box>
  );
}

/**
 * Shows `lines` under `title` and resolves to the answer (no on anything
 * but y). Without a terminal (a script piping the answer) it prints the
 * lines and reads one line from standard input.
 */
export async function confirm(title: string, lines: string[]): Promise<boolean> {
  if (!process.stdin.isTTY) {
    console.log(title);
    for (const line of lines) console.log(line);
    process.stdout.write("Apply these changes? [y/N] ");
    const answer = (await new Response(Bun.stdin.stream()).text()).split("\n")[0] ?? "";
    return answer.trim().toLowerCase() === "y";
  }
  let yes = false;
  const app = render(<Confirm title={title} lines={lines} onAnswer={(a) => (yes = a)} />);
  await app.waitUntilExit();
  return yes;
}
