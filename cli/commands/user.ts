/**
 * @module `mcr user add|list|passwd|disable|enable|remove`: accounts on the
 * local data directory. Passwords come from standard input or are
 * generated and shown once; never from the command line.
 */
import type { Command } from "commander";
import { randomSecret } from "../../lib/auth/secrets.ts";
import { addUser, listUsers, removeUser, setDisabled, setPassword } from "../../lib/auth/users.ts";
import { dataOption, localActor, readStdinSecret, withRegistry } from "../local.ts";
import { printJson, printTable, UsageError, when } from "../output.ts";

interface Common {
  data?: string;
}

/** The password to set: from stdin, or generated and printed once. */
async function obtainPassword(fromStdin: boolean | undefined): Promise<{ password: string; generated: boolean }> {
  if (fromStdin) return { password: await readStdinSecret(), generated: false };
  return { password: randomSecret(18), generated: true };
}

export function registerUser(program: Command): void {
  const user = program.command("user").description("manage accounts");

  user
    .command("add <name>")
    .description("create an account (a random password is printed unless --password-stdin)")
    .option("--role <role>", "admin, user or guest", "user")
    .option("--robot", "a robot account for CI and scripts (no password; create a token)")
    .option("--password-stdin", "read the password from standard input")
    .option(...dataOption)
    .action(async (name: string, opts: Common & { role: string; robot?: boolean; passwordStdin?: boolean }) => {
      if (opts.robot && opts.passwordStdin) throw new UsageError("robot accounts have no password");
      const secret = opts.robot ? null : await obtainPassword(opts.passwordStdin);
      await withRegistry(opts, async (reg) => {
        await addUser(reg, { name, role: opts.role, kind: opts.robot ? "robot" : "human", password: secret?.password }, localActor());
      });
      console.log(`created ${opts.robot ? "robot" : "user"} ${name} (role ${opts.role})`);
      if (secret?.generated) console.log(`password: ${secret.password}`);
      if (opts.robot) console.log(`create its token with: mcr token create --user ${name} --name LABEL`);
    });

  user
    .command("list")
    .description("list accounts")
    .option("--json", "print JSON")
    .option(...dataOption)
    .action(async (opts: Common & { json?: boolean }) => {
      const users = await withRegistry(opts, listUsers);
      if (opts.json) return printJson(users);
      printTable(
        ["NAME", "ROLE", "KIND", "STATUS", "CREATED"],
        users.map((u) => [u.name, u.role, u.kind, u.disabled ? "disabled" : "enabled", when(u.createdAt)]),
      );
    });

  user
    .command("passwd <name>")
    .description("set a password (a random one is printed unless --password-stdin)")
    .option("--password-stdin", "read the password from standard input")
    .option(...dataOption)
    .action(async (name: string, opts: Common & { passwordStdin?: boolean }) => {
      const secret = await obtainPassword(opts.passwordStdin);
      await withRegistry(opts, (reg) => setPassword(reg, name, secret.password, localActor()));
      console.log(`password of ${name} changed`);
      if (secret.generated) console.log(`password: ${secret.password}`);
    });

  for (const [verb, disabled] of [["disable", true], ["enable", false]] as const) {
    user
      .command(`${verb} <name>`)
      .description(disabled ? "refuse the account from its next request on" : "allow a disabled account again")
      .option(...dataOption)
      .action(async (name: string, opts: Common) => {
        await withRegistry(opts, (reg) => setDisabled(reg, name, disabled, localActor()));
        console.log(`${name} ${disabled ? "disabled" : "enabled"}`);
      });
  }

  user
    .command("remove <name>")
    .description("delete an account and its tokens")
    .option(...dataOption)
    .action(async (name: string, opts: Common) => {
      await withRegistry(opts, (reg) => removeUser(reg, name, localActor()));
      console.log(`${name} removed`);
    });
}
