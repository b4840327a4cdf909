import test from 'ava'
import { pinyinInitials } from '#identity/services/pinyin_initials'
import { DEMO_GIVEN_NAME_CHARACTERS, DEMO_SURNAMES } from '#identity/services/demo_school'

test('gives the initials of common names', (t) => {
  t.is(pinyinInitials('张三'), 'zs')
  t.is(pinyinInitials('王小明'), 'wxm')
  t.is(pinyinInitials('李娜'), 'ln')
  t.is(pinyinInitials('诸葛亮'), 'zgl')
  t.is(pinyinInitials('欧阳娜娜'), 'oynn')
})

test('reads a surname with its surname reading, and only the surname', (t) => {
  t.is(pinyinInitials('曾国藩'), 'zgf', '曾 is zēng as a surname, not céng')
  t.is(pinyinInitials('单雄信'), 'sxx')
  t.is(pinyinInitials('解缙'), 'xj')
  t.is(pinyinInitials('仇英'), 'qy')
  t.is(pinyinInitials('翟天临'), 'ztl')
  t.is(pinyinInitials('覃海'), 'qh')
  t.is(pinyinInitials('区美'), 'om')
  t.is(pinyinInitials('单单'), 'sd', 'the given name keeps the common reading dān')
})

test('covers characters outside the common set, and traditional characters', (t) => {
  t.is(pinyinInitials('王喆'), 'wz')
  t.is(pinyinInitials('张犇'), 'zb')
  t.is(pinyinInitials('李淼'), 'lm')
  t.is(pinyinInitials('刘堃'), 'lk')
  t.is(pinyinInitials('陈玥'), 'cy')
  t.is(pinyinInitials('黄翀'), 'hc')
  t.is(pinyinInitials('周赟'), 'zy')
  t.is(pinyinInitials('張三'), 'zs')
  t.is(pinyinInitials('劉德華'), 'ldh')
})

test('takes one letter per Latin word and skips digits, spaces and punctuation', (t) => {
  t.is(pinyinInitials('阿卜杜·热合曼'), 'abdrhm')
  t.is(pinyinInitials('Li Lei'), 'll')
  t.is(pinyinInitials('李 Lei'), 'll')
  t.is(pinyinInitials('Anna李'), 'al')
  t.is(pinyinInitials('王2号'), 'wh')
  t.is(pinyinInitials(''), '')
  t.is(pinyinInitials('  '), '')
})

/** Reads "王w 欧阳oy" into { 王: 'w', 欧阳: 'oy' }. */
function initialsTable(list: string): Record<string, string> {
  return Object.fromEntries(
    list.split(' ').map((item) => {
      const [, name, initials] = /^(.+?)([a-z]+)$/.exec(item)!
      return [name, initials]
    })
  )
}

/** The surnames the demo generator uses, with their initials as a person reads them. */
const SURNAME_INITIALS = initialsTable(
  '王w 李l 张z 刘l 陈c 杨y 黄h 赵z 吴w 周z 徐x 孙s 马m 朱z 胡h 郭g 何h 林l 高g 罗l ' +
    '郑z 梁l 谢x 宋s 唐t 许x 韩h 冯f 邓d 曹c 彭p 曾z 肖x 田t 董d 潘p 袁y 蔡c 蒋j 余y ' +
    '于y 杜d 叶y 程c 魏w 苏s 吕l 丁d 任r 卢l 姚y 沈s 钟z 姜j 崔c 谭t 陆l 范f 汪w 廖l ' +
    '石s 金j 韦w 贾j 夏x 方f 邹z 熊x 白b 孟m 秦q 邱q 侯h 江j 尹y 薛x 段d 雷l 龙l 黎l ' +
    '陶t 贺h 毛m 顾g 龚g 覃q 单s 解x 欧阳oy 司马sm 上官sg'
)

/** The given-name characters the demo generator uses, with their initials. */
const GIVEN_INITIALS = initialsTable(
  '伟w 强q 磊l 军j 洋y 勇y 杰j 涛t 明m 超c 刚g 辉h 鹏p 华h 飞f 鑫x 波b 斌b 宇y 浩h ' +
    '凯k 健j 俊j 帆f 旭x 宁n 龙l 睿r 博b 轩x 泽z 昊h 天t 毅y 航h 铭m 鸿h 志z 建j 国g ' +
    '海h 峰f 亮l 成c 宸c 逸y 然r 芳f 娜n 敏m 静j 丽l 艳y 娟j 霞x 秀x 燕y 玲l 丹d 萍p ' +
    '红h 婷t 雪x 琳l 颖y 倩q 洁j 佳j 晶j 欣x 悦y 怡y 涵h 诗s 梦m 琪q 雨y 萱x 可k 馨x ' +
    '彤t 雅y 若r 楠n 慧h 月y 瑶y 子z 文w 嘉j 一y 思s 晨c 安a'
)

test('gives the right initial for every surname the demo uses', (t) => {
  for (const [surname] of DEMO_SURNAMES) {
    t.truthy(SURNAME_INITIALS[surname], `${surname} has an expected initial in this test`)
    t.is(pinyinInitials(surname), SURNAME_INITIALS[surname], surname)
  }
})

test('gives the right initial for every given-name character the demo uses', (t) => {
  const characters = new Set(Object.values(DEMO_GIVEN_NAME_CHARACTERS).join(''))
  for (const character of characters) {
    t.truthy(GIVEN_INITIALS[character], `${character} has an expected initial in this test`)
    // After a surname, so that the surname readings do not apply.
    t.is(pinyinInitials(`王${character}`), `w${GIVEN_INITIALS[character]}`, character)
  }
})
