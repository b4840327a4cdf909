/**
 * The installer image's scripts, without building or booting anything (the
 * image itself is checked by installer/iso/nspawn-check.sh and
 * installer/iso/boot-test.sh, which are separate CI steps): the shell scripts
 * parse, the installer reads and validates answer files without running
 * them, and the configuration the image ships opens only Quad's ports and
 * keeps the live-only pieces out of an installed disk.
 *
 * No database is used; under TEST_DB=pg the file is skipped.
 */
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const TREE = fileURLToPath(new URL('../../', import.meta.url))
const ISO = join(TREE, 'installer', 'iso')
const ROOTFS = join(ISO, 'rootfs')
const INSTALLER = join(ROOTFS, 'usr', 'local', 'sbin', 'quad-install')
const check = process.env.TEST_DB === 'pg' ? test.skip : test

const SCRIPTS = [
  'build.sh',
  'boot-test.sh',
  'nspawn-check.sh',
  'customize.sh',
  'rootfs/usr/local/sbin/quad-install',
  'rootfs/usr/local/sbin/quad-prepare',
  'rootfs/usr/local/sbin/quad-issue',
  'rootfs/usr/local/sbin/quad-upgrade',
  'rootfs/root/.bash_profile',
]

function dryRun(answers: string) {
  const folder = mkdtempSync(join(tmpdir(), 'quad-iso-answers-'))
  try {
    const file = join(folder, 'answers.conf')
    writeFileSync(file, answers)
    const result = spawnSync('bash', [INSTALLER, '--answers', file, '--dry-run'], {
      encoding: 'utf8',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    })
    const settings = Object.fromEntries(
      result.stdout
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
    )
    return { status: result.status, settings, stderr: result.stderr, folder }
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
}

check('every script of the image parses', (t) => {
  for (const script of SCRIPTS) {
    const result = spawnSync('bash', ['-n', join(ISO, script)], { encoding: 'utf8' })
    t.is(result.status, 0, `${script}: ${result.stderr}`)
  }
})

check('an answer file is read, quoted values unwrapped, defaults filled in', (t) => {
  const { status, settings, stderr } = dryRun(
    [
      '# Quad unattended install',
      'DISK=/dev/sda',
      'HOSTNAME=quad.school.edu.cn',
      'IP=10.20.0.5/24',
      'GATEWAY=10.20.0.1',
      'DNS="10.20.0.2,10.20.0.3"',
      "SSH_KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests admin@school'",
      'SSH=yes',
      'ROOT_PASSWORD_HASH=$6$salt$abcdefghijklmnopqrstuvwxyz0123456789./ABCDEFG',
      '',
    ].join('\r\n')
  )
  t.is(status, 0, stderr)
  t.like(settings, {
    DISK: '/dev/sda',
    HOSTNAME: 'quad.school.edu.cn',
    IP: '10.20.0.5/24',
    GATEWAY: '10.20.0.1',
    DNS: '10.20.0.2,10.20.0.3',
    TIMEZONE: 'Asia/Shanghai',
    SSH: 'yes',
    SSH_KEY: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests admin@school',
    POSTGRESQL: 'no',
    AFTER: 'poweroff',
    ROOT_PASSWORD: 'set',
  })
})

check('an answer file is never run as a script', (t) => {
  const marker = join(tmpdir(), `quad-iso-marker-${process.pid}`)
  const { status } = dryRun(`DISK=auto\nHOSTNAME=$(touch ${marker})\n`)
  t.is(status, 1)
  t.false(existsSync(marker))
})

check('invalid answers are refused with a message', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['HOSTNAME=quad;reboot', /invalid host name/],
    ['HOSTNAME=-quad', /invalid host name/],
    ['IP=10.20.0.300/24', /invalid address/],
    ['IP=10.20.0.5', /invalid address/],
    ['IP=10.20.0.5/24\nGATEWAY=gateway', /invalid gateway/],
    ['DNS=10.0.0.1;rm', /invalid DNS/],
    ['TIMEZONE=../../../etc/passwd', /unknown time zone/],
    ['TIMEZONE=Mars/Olympus', /unknown time zone/],
    ['SSH_KEY=not a key', /OpenSSH public key/],
    ['ROOT_PASSWORD_HASH=plain-text', /crypt\(3\) hash/],
    ['AFTER=format', /AFTER is/],
    ['NOT A SETTING', /bad line/],
  ]
  for (const [line, message] of cases) {
    const { status, stderr } = dryRun(`DISK=auto\n${line}\n`)
    t.is(status, 1, line)
    t.regex(stderr, message, line)
  }
  const noDisk = dryRun('HOSTNAME=quad\n')
  t.is(noDisk.status, 1)
  t.regex(noDisk.stderr, /no disk given/)
})

check('the firewall opens only the web and gateway ports; SSH only when chosen', (t) => {
  const nft = readFileSync(join(ROOTFS, 'etc', 'nftables.conf'), 'utf8')
  t.regex(nft, /define web_port = 8443/)
  t.regex(nft, /define gateway_port = 8444/)
  t.regex(nft, /type filter hook input priority filter; policy drop;/)
  t.regex(nft, /tcp dport 443 redirect to :\$web_port/)
  const accepted = nft
    .split('\n')
    .filter((line) => /^\s*tcp dport/.test(line) && line.includes('accept'))
    .map((line) => line.trim())
  t.deepEqual(accepted, ['tcp dport { $web_port, $gateway_port } accept'])
  t.regex(nft, /^\s*# tcp dport 22 accept # quad-ssh$/m)
  const sshd = readFileSync(join(ROOTFS, 'etc', 'ssh', 'sshd_config.d', 'quad.conf'), 'utf8')
  t.regex(sshd, /^PasswordAuthentication no$/m)
})

check('the image configuration matches the bundle and keeps Quad off during an install', (t) => {
  const customize = readFileSync(join(ISO, 'customize.sh'), 'utf8')
  const install = readFileSync(join(TREE, 'installer', 'install.sh'), 'utf8')
  // quad.env of the image carries every setting install.sh writes.
  const envKeys = (text: string) =>
    [...text.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]).filter(Boolean)
  const installEnv = install.slice(install.indexOf('cat >"$partial" <<EOF'))
  const imageEnv = customize.slice(customize.indexOf('cat >/etc/quad/quad.env <<ENV'))
  for (const key of envKeys(installEnv.slice(0, installEnv.indexOf('\nEOF')))) {
    t.true(envKeys(imageEnv.slice(0, imageEnv.indexOf('\nENV'))).includes(key), key)
  }
  t.regex(customize, /systemctl disable ssh\.service postgresql\.service/)
  t.regex(customize, /systemctl mask apt-daily\.timer apt-daily-upgrade\.timer/)
  t.regex(customize, /: >\/etc\/machine-id/)

  const units = join(ROOTFS, 'etc', 'systemd', 'system')
  const dropIn = readFileSync(join(units, 'quad.service.d', 'appliance.conf'), 'utf8')
  t.regex(dropIn, /^Requires=quad-prepare\.service$/m)
  t.regex(dropIn, /^ConditionKernelCommandLine=!quad\.autoinstall$/m)
  const gateway = readFileSync(join(units, 'quad-gateway.service'), 'utf8')
  t.regex(gateway, /ace\.js terminals:serve$/m)
  t.regex(gateway, /^User=quad$/m)
  const autoinstall = readFileSync(join(units, 'quad-autoinstall.service'), 'utf8')
  t.regex(autoinstall, /^ConditionKernelCommandLine=quad\.autoinstall$/m)

  // What only the live system has is removed from an installed disk.
  const installer = readFileSync(INSTALLER, 'utf8')
  for (const liveOnly of [
    'getty@tty1.service.d/live.conf',
    'serial-getty@ttyS0.service.d/live.conf',
    'multi-user.target.wants/quad-autoinstall.service',
  ]) {
    t.true(installer.includes(liveOnly), liveOnly)
    t.true(
      existsSync(join(units, liveOnly)) || liveOnly.startsWith('multi-user'),
      `${liveOnly} exists in the image`
    )
  }
})
