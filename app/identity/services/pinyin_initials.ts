/**
 * Pinyin initials of a name, for search: 张三 → "zs", 欧阳娜娜 → "oynn".
 *
 * Han characters are placed with the Chinese collation of the runtime's ICU
 * (the CLDR pinyin order, which Node.js ships): a character's initial is the
 * letter of the last group whose first character sorts before it. That
 * covers every character in that order without a dictionary in the code
 * base. The collation gives each character its most common reading, which is
 * wrong for some surnames (曾 is read zēng as a surname, céng otherwise), so
 * the first character of a name is looked up in a table of surname readings
 * first. Latin words contribute their first letter; digits and punctuation
 * (such as the middle dot in 阿卜杜·热合曼) contribute nothing.
 */

/** The first character of each initial's group in the CLDR pinyin order. */
const GROUPS: readonly (readonly [string, string])[] = [
  ['吖', 'a'],
  ['丷', 'b'],
  ['嚓', 'c'],
  ['咑', 'd'],
  ['妸', 'e'],
  ['发', 'f'],
  ['旮', 'g'],
  ['哈', 'h'],
  ['丌', 'j'],
  ['咔', 'k'],
  ['垃', 'l'],
  ['呣', 'm'],
  ['拏', 'n'],
  ['喔', 'o'],
  ['妑', 'p'],
  ['七', 'q'],
  ['呥', 'r'],
  ['仨', 's'],
  ['他', 't'],
  ['屲', 'w'],
  ['夕', 'x'],
  ['丫', 'y'],
  ['帀', 'z'],
]

/** Surnames whose reading differs from the character's most common one. */
const SURNAME_INITIALS: Readonly<Record<string, string>> = {
  曾: 'z',
  单: 's',
  解: 'x',
  区: 'o',
  仇: 'q',
  查: 'z',
  翟: 'z',
  覃: 'q',
  乐: 'y',
  召: 's',
  种: 'c',
  重: 'c',
  朝: 'c',
  秘: 'b',
  繁: 'p',
  宓: 'f',
  句: 'g',
  蕃: 'p',
}

const collator = new Intl.Collator('zh-CN', { sensitivity: 'base' })

/**
 * A runtime built with reduced ICU data sorts Han by code point; then the
 * groups above mean nothing and only the surname table is used.
 */
const collationKnowsPinyin =
  collator.compare('阿', '八') < 0 &&
  collator.compare('八', '丫') < 0 &&
  collator.compare('夕', '丫') < 0

const HAN = /\p{Script=Han}/u

/** The initial of one Han character from the collation, or '' if unknown. */
export function hanInitial(character: string): string {
  if (!collationKnowsPinyin || !HAN.test(character)) return ''
  if (collator.compare(character, GROUPS[0][0]) < 0) return ''
  let low = 0
  let high = GROUPS.length - 1
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    if (collator.compare(character, GROUPS[middle][0]) >= 0) low = middle
    else high = middle - 1
  }
  return GROUPS[low][1]
}

/** Lower-case pinyin initials of a person's name, e.g. 王小明 → "wxm". */
export function pinyinInitials(name: string): string {
  let initials = ''
  let inLatinWord = false
  let first = true
  for (const character of name.normalize('NFC')) {
    if (/[A-Za-z]/.test(character)) {
      if (!inLatinWord) initials += character.toLowerCase()
      inLatinWord = true
      first = false
      continue
    }
    inLatinWord = false
    if (!HAN.test(character)) continue
    const initial = (first ? SURNAME_INITIALS[character] : undefined) ?? hanInitial(character)
    initials += initial
    first = false
  }
  return initials
}
