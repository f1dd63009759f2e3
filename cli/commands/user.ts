/**
 * @module `mcr user add|list|passwd|disable|enable|remove`: accounts, on
 * the local data directory or a remote registry (`--server`). Passwords
 * come from standard input or are generated and shown once; never from
 * the command line.
 */
import type { Command } from "commander";
import { randomSecret } from "../../lib/auth/secrets.ts";
import { addUser, listUsers, removeUser, setDisabled, setPassword, type EndedCredentials, type UserInfo } from "../../lib/auth/users.ts";
import { localActor, readStdinSecret } from "../local.ts";
import { printJson, printTable, safe, UsageError, when } from "../output.ts";
import { onTarget, targetOptions, type TargetOptions } from "../target.ts";

/** The password to set: from stdin, or generated and printed once. */
async function obtainPassword(fromStdin: boolean | undefined): Promise<{ password: string; generated: boolean }> {
  if (fromStdin) return { password: await readStdinSecret(), generated: false };
  return { password: randomSecret(18), generated: true };
}

const path = (name: string) => `/v1/users/${encodeURIComponent(name)}`;

/** What a change ended, as a line for people. */
function endedLine(ended: EndedCredentials): string {
  return `ended ${ended.sessions} admin session(s) and ${ended.refreshTokens} refresh token(s)`;
}

export function registerUser(program: Command): void {
  const user = program.command("user").description("manage accounts");

  targetOptions(
    user
      .command("add <name>")
      .description("create an account (a random password is printed unless --password-stdin)")
      .option("--role <role>", "admin, user or guest", "user")
      .option("--robot", "a robot account for CI and scripts (no password; create a token)")
      .option("--password-stdin", "read the password from standard input"),
  ).action(async (name: string, opts: TargetOptions & { role: string; robot?: boolean; passwordStdin?: boolean }) => {
    if (opts.robot && opts.passwordStdin) throw new UsageError("robot accounts have no password");
    const secret = opts.robot ? null : await obtainPassword(opts.passwordStdin);
    const input = { name, role: opts.role, kind: opts.robot ? "robot" : "human", password: secret?.password };
    await onTarget(opts, {
      local: (reg) => addUser(reg, input, localActor()),
      remote: (api) => api.post<UserInfo>("/v1/users", input),
    });
    console.log(safe(`created ${opts.robot ? "robot" : "user"} ${name} (role ${opts.role})`));
    if (secret?.generated) console.log(`password: ${secret.password}`);
    if (opts.robot) console.log(safe(`create its token with: mcr token create --user ${name} --name LABEL`));
  });

  targetOptions(user.command("list").description("list accounts").option("--json", "print JSON")).action(async (opts: TargetOptions & { json?: boolean }) => {
    const users = await onTarget(opts, {
      local: listUsers,
      remote: async (api) => (await api.get<{ users: UserInfo[] }>("/v1/users")).users,
    });
    if (opts.json) return printJson(users);
    printTable(
      ["NAME", "ROLE", "KIND", "STATUS", "CREATED"],
      users.map((u) => [u.name, u.role, u.kind, u.disabled ? "disabled" : "enabled", when(u.createdAt)]),
    );
  });

  targetOptions(
    user
      .command("passwd <name>")
      .description("set a password (a random one is printed unless --password-stdin)")
      .option("--password-stdin", "read the password from standard input"),
  ).action(async (name: string, opts: TargetOptions & { passwordStdin?: boolean }) => {
    const secret = await obtainPassword(opts.passwordStdin);
    const ended = await onTarget(opts, {
      local: (reg) => setPassword(reg, name, secret.password, localActor()),
      remote: async (api) => (await api.patch<{ ended: EndedCredentials }>(path(name), { password: secret.password })).ended,
    });
    // JWTs issued from the old password fail their next use too; they are not counted (they are not stored).
    console.log(`password of ${safe(name)} changed; ${endedLine(ended)} made from the old password`);
    if (secret.generated) console.log(`password: ${secret.password}`);
  });

  for (const [verb, disabled] of [["disable", true], ["enable", false]] as const) {
    targetOptions(
      user.command(`${verb} <name>`).description(disabled ? "refuse the account from its next request on" : "allow a disabled account again"),
    ).action(async (name: string, opts: TargetOptions) => {
      const ended = await onTarget(opts, {
        local: (reg) => setDisabled(reg, name, disabled, localActor()),
        remote: async (api) => (await api.patch<{ ended: EndedCredentials }>(path(name), { disabled })).ended,
      });
      console.log(`${safe(name)} ${disabled ? `disabled; ${endedLine(ended)}` : "enabled"}`);
    });
  }

  targetOptions(user.command("remove <name>").description("delete an account and its tokens")).action(async (name: string, opts: TargetOptions) => {
    await onTarget(opts, {
      local: (reg) => removeUser(reg, name, localActor()),
      remote: (api) => api.delete(path(name)),
    });
    console.log(`${safe(name)} removed`);
  });
}
